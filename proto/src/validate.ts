// Checks decoded ballast.v1 messages before anything acts on them. Protobuf decoding accepts any
// number (NaN, ∞, negative counts) and any enum value; these checks refuse what makes no sense and name
// the offending field by its path in the .proto (snake_case), so a peer can see what it got wrong.
import type {
  AgentHello,
  AgentMessage,
  AppReport,
  CgroupUsage,
  PodReport,
} from "../gen/ballast/v1/agent_link.js";
import { type Command, DrainState, type LoadReport, ProtocolVersion } from "../gen/ballast/v1/common.js";
import { type AppHello, type AppMessage, type AppState, LazyAgentState } from "../gen/ballast/v1/pod_link.js";

/** A message that failed validation: `field` is the path of the offending field. */
export class InvalidMessageError extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = "InvalidMessageError";
  }
}

export const PROTOCOL_VERSION = ProtocolVersion.PROTOCOL_VERSION_V1;
export const MAX_GAUGES = 64;
export const MAX_HISTOGRAM_BOUNDS = 64;
export const MAX_APPS_PER_POD = 16;
export const MAX_GATES = 32;
export const MAX_LAZY_AGENTS = 16;
export const MIN_REPORT_INTERVAL_MS = 100;
export const MAX_REPORT_INTERVAL_MS = 60_000;
/** A report window longer than this is a clock problem, not a measurement. */
const MAX_WINDOW_MS = 10 * 60_000;

const SERVICE_NAME = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/;
const GAUGE_NAME = /^[a-z][a-z0-9_]{0,62}$/;
const GATE_NAME = /^[a-z][a-z0-9_.-]{0,62}$/;
// DNS-1123 subdomain, as Kubernetes requires for pod and namespace names.
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function fail(field: string, problem: string): never {
  throw new InvalidMessageError(field, problem);
}

function count(field: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) fail(field, `must be a non-negative integer, got ${v}`);
}

function finiteNonNegative(field: string, v: number): void {
  if (!Number.isFinite(v)) fail(field, `must be a finite number, got ${v}`);
  if (v < 0) fail(field, `must not be negative, got ${v}`);
}

function required<T>(field: string, v: T | undefined): T {
  if (v === undefined) fail(field, "is required");
  return v;
}

function protocolVersion(field: string, v: ProtocolVersion): void {
  if (v !== PROTOCOL_VERSION) {
    fail(field, `unsupported protocol version ${v}; this build speaks ${PROTOCOL_VERSION}`);
  }
}

function drainState(field: string, v: DrainState): void {
  if (
    v !== DrainState.DRAIN_STATE_SERVING &&
    v !== DrainState.DRAIN_STATE_DRAINING &&
    v !== DrainState.DRAIN_STATE_DRAINED
  ) {
    fail(field, `must be SERVING, DRAINING or DRAINED, got ${v}`);
  }
}

export function validateAppHello(h: AppHello, path = "hello"): void {
  if (!SERVICE_NAME.test(h.serviceName)) fail(`${path}.service_name`, `must match ${SERVICE_NAME.source}`);
  if (!Number.isInteger(h.pid) || h.pid <= 0) fail(`${path}.pid`, "must be a positive process id");
  protocolVersion(`${path}.protocol_version`, h.protocolVersion);
  if (h.sdkVersion.length > 64) fail(`${path}.sdk_version`, "must be at most 64 characters");
  if (h.runtime.length > 128) fail(`${path}.runtime`, "must be at most 128 characters");
}

export function validateLoadReport(r: LoadReport, path = "report"): void {
  const start = required(`${path}.window_start`, r.windowStart).getTime();
  const end = required(`${path}.window_end`, r.windowEnd).getTime();
  if (!Number.isFinite(start)) fail(`${path}.window_start`, "is not a valid time");
  if (!Number.isFinite(end)) fail(`${path}.window_end`, "is not a valid time");
  if (end <= start) fail(`${path}.window_end`, "must be after window_start");
  if (end - start > MAX_WINDOW_MS) fail(`${path}.window_end`, `window longer than ${MAX_WINDOW_MS} ms`);
  count(`${path}.inflight_now`, r.inflightNow);
  finiteNonNegative(`${path}.inflight_avg`, r.inflightAvg);
  count(`${path}.inflight_max`, r.inflightMax);
  if (r.inflightAvg > r.inflightMax) fail(`${path}.inflight_avg`, "must not exceed inflight_max");
  count(`${path}.requests_completed`, r.requestsCompleted);
  count(`${path}.errors`, r.errors);
  if (r.errors > r.requestsCompleted) fail(`${path}.errors`, "must not exceed requests_completed");
  if (r.latency) {
    const h = r.latency;
    const lp = `${path}.latency`;
    if (h.boundsMs.length > MAX_HISTOGRAM_BOUNDS) fail(`${lp}.bounds_ms`, `at most ${MAX_HISTOGRAM_BOUNDS}`);
    let prev = 0;
    h.boundsMs.forEach((b, i) => {
      if (!Number.isFinite(b) || b <= prev) {
        fail(`${lp}.bounds_ms[${i}]`, "bounds must be finite, positive and strictly increasing");
      }
      prev = b;
    });
    if (h.counts.length !== h.boundsMs.length + 1) {
      fail(
        `${lp}.counts`,
        `must have len(bounds_ms)+1 = ${h.boundsMs.length + 1} entries, got ${h.counts.length}`,
      );
    }
    let total = 0;
    h.counts.forEach((c, i) => {
      count(`${lp}.counts[${i}]`, c);
      total += c;
    });
    if (total !== r.requestsCompleted) {
      fail(`${lp}.counts`, `add up to ${total} but requests_completed is ${r.requestsCompleted}`);
    }
    finiteNonNegative(`${lp}.sum_ms`, h.sumMs);
  }
  if (r.eventLoop) {
    const e = r.eventLoop;
    const ep = `${path}.event_loop`;
    finiteNonNegative(`${ep}.delay_p50_ms`, e.delayP50Ms);
    finiteNonNegative(`${ep}.delay_p99_ms`, e.delayP99Ms);
    finiteNonNegative(`${ep}.delay_max_ms`, e.delayMaxMs);
    finiteNonNegative(`${ep}.delay_mean_ms`, e.delayMeanMs);
    finiteNonNegative(`${ep}.utilization`, e.utilization);
    if (e.utilization > 1) fail(`${ep}.utilization`, `must be between 0 and 1, got ${e.utilization}`);
  }
  if (r.heap) {
    count(`${path}.heap.used_bytes`, r.heap.usedBytes);
    count(`${path}.heap.limit_bytes`, r.heap.limitBytes);
  }
  namedValues(`${path}.gauges`, r.gauges);
  namedValues(`${path}.counters`, r.counters);
  finiteNonNegative(`${path}.gc_pause_ms`, r.gcPauseMs);
}

/** A map of gauges or counters: at most MAX_GAUGES names matching GAUGE_NAME, finite values ≥ 0. */
function namedValues(path: string, values: { [name: string]: number }): void {
  const names = Object.keys(values);
  if (names.length > MAX_GAUGES) fail(path, `at most ${MAX_GAUGES} entries, got ${names.length}`);
  for (const name of names) {
    if (!GAUGE_NAME.test(name))
      fail(`${path}[${JSON.stringify(name)}]`, `name must match ${GAUGE_NAME.source}`);
    finiteNonNegative(`${path}[${JSON.stringify(name)}]`, values[name] as number);
  }
}

export function validateAppState(s: AppState, path = "state"): void {
  drainState(`${path}.drain`, s.drain);
  count(`${path}.inflight`, s.inflight);
  if (s.pendingGates.length > MAX_GATES) fail(`${path}.pending_gates`, `at most ${MAX_GATES} entries`);
  s.pendingGates.forEach((g, i) => {
    if (!GATE_NAME.test(g)) fail(`${path}.pending_gates[${i}]`, `must match ${GATE_NAME.source}`);
  });
  if (s.lazyAgents.length > MAX_LAZY_AGENTS)
    fail(`${path}.lazy_agents`, `at most ${MAX_LAZY_AGENTS} entries`);
  s.lazyAgents.forEach((a, i) => {
    const ap = `${path}.lazy_agents[${i}]`;
    if (!SERVICE_NAME.test(a.name)) fail(`${ap}.name`, `must match ${SERVICE_NAME.source}`);
    if (
      a.state !== LazyAgentState.LAZY_AGENT_STATE_PENDING &&
      a.state !== LazyAgentState.LAZY_AGENT_STATE_LOADING &&
      a.state !== LazyAgentState.LAZY_AGENT_STATE_LOADED &&
      a.state !== LazyAgentState.LAZY_AGENT_STATE_FAILED
    ) {
      fail(`${ap}.state`, `must be PENDING, LOADING, LOADED or FAILED, got ${a.state}`);
    }
    finiteNonNegative(`${ap}.load_ms`, a.loadMs);
    if (a.error.length > 256) fail(`${ap}.error`, "must be at most 256 characters");
  });
}

/** Validates a message of a PodLink stream; `first` says whether it opens the stream. */
export function validateAppMessage(m: AppMessage, first: boolean): void {
  const body = m.body;
  if (!body) fail("body", "message has no body");
  if (first && body.$case !== "hello") fail("hello", "the first message of a stream must be hello");
  if (!first && body.$case === "hello") fail("hello", "hello may only be sent once, first");
  switch (body.$case) {
    case "hello":
      validateAppHello(body.value);
      return;
    case "report":
      validateLoadReport(body.value);
      return;
    case "state":
      validateAppState(body.value);
      return;
  }
}

export function validateCommand(c: Command, path = "command"): void {
  const body = required(`${path}.body`, c.body);
  switch (body.$case) {
    case "drain":
      count(`${path}.drain.deadline_ms`, body.value.deadlineMs);
      return;
    case "loadLazyAgent":
      if (!body.value.name) fail(`${path}.load_lazy_agent.name`, "is required");
      return;
    case "setReportInterval": {
      const v = body.value.intervalMs;
      if (v < MIN_REPORT_INTERVAL_MS || v > MAX_REPORT_INTERVAL_MS) {
        fail(
          `${path}.set_report_interval.interval_ms`,
          `must be ${MIN_REPORT_INTERVAL_MS} to ${MAX_REPORT_INTERVAL_MS}`,
        );
      }
      return;
    }
    case "rebalanceConnections": {
      const f = body.value.fraction;
      if (!(f > 0 && f <= 1)) fail(`${path}.rebalance_connections.fraction`, `must be in (0, 1], got ${f}`);
      count(`${path}.rebalance_connections.spread_ms`, body.value.spreadMs);
      return;
    }
  }
}

export function validateAgentHello(h: AgentHello, path = "hello"): void {
  protocolVersion(`${path}.protocol_version`, h.protocolVersion);
  const pod = required(`${path}.pod`, h.pod);
  if (!DNS_SUBDOMAIN.test(pod.namespace) || pod.namespace.length > 63) {
    fail(`${path}.pod.namespace`, "must be a DNS-1123 label");
  }
  if (!DNS_SUBDOMAIN.test(pod.podName) || pod.podName.length > 253) {
    fail(`${path}.pod.pod_name`, "must be a DNS-1123 subdomain");
  }
  pod.containers.forEach((c, i) => {
    finiteNonNegative(`${path}.pod.containers[${i}].cpu_cores`, c.cpuCores);
    count(`${path}.pod.containers[${i}].memory_bytes`, c.memoryBytes);
  });
  if (pod.workload && (!pod.workload.kind || !pod.workload.name)) {
    fail(`${path}.pod.workload`, "kind and name are required when a workload is given");
  }
  const iv = h.reportIntervalMs;
  if (iv < MIN_REPORT_INTERVAL_MS || iv > MAX_REPORT_INTERVAL_MS) {
    fail(
      `${path}.report_interval_ms`,
      `must be ${MIN_REPORT_INTERVAL_MS} to ${MAX_REPORT_INTERVAL_MS}, got ${iv}`,
    );
  }
}

function validateCgroup(c: CgroupUsage, path: string): void {
  if (c.version !== 0 && c.version !== 1 && c.version !== 2) fail(`${path}.version`, "must be 0, 1 or 2");
  finiteNonNegative(`${path}.cpu_cores`, c.cpuCores);
  finiteNonNegative(`${path}.cpu_limit_cores`, c.cpuLimitCores);
  count(`${path}.memory_bytes`, c.memoryBytes);
  count(`${path}.memory_limit_bytes`, c.memoryLimitBytes);
}

function validateAppReport(a: AppReport, path: string): void {
  if (!SERVICE_NAME.test(a.serviceName)) fail(`${path}.service_name`, `must match ${SERVICE_NAME.source}`);
  count(`${path}.pid`, a.pid);
  drainState(`${path}.drain`, a.drain);
  if (a.load) validateLoadReport(a.load, `${path}.load`);
}

export function validatePodReport(r: PodReport, path = "report"): void {
  if (!Number.isSafeInteger(r.seq) || r.seq < 1) fail(`${path}.seq`, "must be a positive integer");
  const at = required(`${path}.at`, r.at).getTime();
  if (!Number.isFinite(at)) fail(`${path}.at`, "is not a valid time");
  if (r.apps.length > MAX_APPS_PER_POD) fail(`${path}.apps`, `at most ${MAX_APPS_PER_POD} entries`);
  r.apps.forEach((a, i) => {
    validateAppReport(a, `${path}.apps[${i}]`);
  });
  if (r.cgroup) validateCgroup(r.cgroup, `${path}.cgroup`);
  count(`${path}.dropped_reports`, r.droppedReports);
}

/** Validates a message of an AgentLink stream; `first` says whether it opens the stream. */
export function validateAgentMessage(m: AgentMessage, first: boolean): void {
  const body = m.body;
  if (!body) fail("body", "message has no body");
  if (first && body.$case !== "hello") fail("hello", "the first message of a stream must be hello");
  if (!first && body.$case === "hello") fail("hello", "hello may only be sent once, first");
  if (body.$case === "hello") validateAgentHello(body.value);
  else validatePodReport(body.value);
}
