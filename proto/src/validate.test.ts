import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { AgentMessage } from "../gen/ballast/v1/agent_link.js";
import { DrainState, type LoadReport, ProtocolVersion } from "../gen/ballast/v1/common.js";
import { AppMessage, LazyAgentState } from "../gen/ballast/v1/pod_link.js";
import {
  InvalidMessageError,
  validateAgentMessage,
  validateAppMessage,
  validateLoadReport,
} from "./validate.js";

export function goodReport(): LoadReport {
  return {
    windowStart: new Date(1_000_000),
    windowEnd: new Date(1_001_000),
    inflightNow: 2,
    inflightAvg: 1.5,
    inflightMax: 3,
    requestsCompleted: 10,
    errors: 1,
    latency: { boundsMs: [10, 100], counts: [6, 3, 1], sumMs: 400 },
    eventLoop: { delayP50Ms: 1, delayP99Ms: 5, delayMaxMs: 9, delayMeanMs: 1.2, utilization: 0.4 },
    heap: { usedBytes: 1000, limitBytes: 4000 },
    gauges: { queue_backlog: 12 },
    gcPauseMs: 3.5,
    warmingUp: false,
    counters: { jobs_done: 4 },
  };
}

function fieldOf(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidMessageError) return e.field;
    throw e;
  }
  return "(valid)";
}

describe("LoadReport validation", () => {
  it("accepts a sound report", () => {
    expect(fieldOf(() => validateLoadReport(goodReport()))).toBe("(valid)");
  });

  it.each<[string, (r: LoadReport) => void, string]>([
    ["NaN", (r) => (r.inflightAvg = Number.NaN), "report.inflight_avg"],
    [
      "infinity",
      (r) => (r.eventLoop!.delayP99Ms = Number.POSITIVE_INFINITY),
      "report.event_loop.delay_p99_ms",
    ],
    ["negative", (r) => (r.latency!.sumMs = -1), "report.latency.sum_ms"],
    ["utilization > 1", (r) => (r.eventLoop!.utilization = 1.5), "report.event_loop.utilization"],
    ["window backwards", (r) => (r.windowEnd = new Date(999_000)), "report.window_end"],
    ["missing window", (r) => (r.windowStart = undefined), "report.window_start"],
    ["errors > completed", (r) => (r.errors = 11), "report.errors"],
    ["bounds not increasing", (r) => (r.latency!.boundsMs = [100, 10]), "report.latency.bounds_ms[1]"],
    ["counts length", (r) => (r.latency!.counts = [6, 4]), "report.latency.counts"],
    ["counts sum", (r) => (r.latency!.counts = [6, 3, 2]), "report.latency.counts"],
    ["negative gauge", (r) => (r.gauges = { queue_backlog: -1 }), 'report.gauges["queue_backlog"]'],
    ["bad gauge name", (r) => (r.gauges = { "Bad Name": 1 }), 'report.gauges["Bad Name"]'],
    [
      "too many gauges",
      (r) => (r.gauges = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`g${i}`, 1]))),
      "report.gauges",
    ],
    ["avg above max", (r) => (r.inflightAvg = 4), "report.inflight_avg"],
    ["negative GC pause", (r) => (r.gcPauseMs = -1), "report.gc_pause_ms"],
    ["NaN GC pause", (r) => (r.gcPauseMs = Number.NaN), "report.gc_pause_ms"],
    ["negative counter", (r) => (r.counters = { jobs_done: -2 }), 'report.counters["jobs_done"]'],
    ["bad counter name", (r) => (r.counters = { "9jobs": 1 }), 'report.counters["9jobs"]'],
  ])("refuses %s, naming the field", (_name, mutate, field) => {
    const r = goodReport();
    mutate(r);
    expect(fieldOf(() => validateLoadReport(r))).toBe(field);
  });
});

describe("stream validation", () => {
  const hello = {
    serviceName: "web",
    pid: 42,
    sdkVersion: "0.1.0",
    protocolVersion: ProtocolVersion.PROTOCOL_VERSION_V1,
    runtime: "node",
  };

  it("requires hello first and only once", () => {
    const state = {
      body: {
        $case: "state" as const,
        value: {
          ready: true,
          drain: DrainState.DRAIN_STATE_SERVING,
          inflight: 0,
          warmingUp: false,
          pendingGates: [],
          lazyAgents: [],
        },
      },
    };
    expect(fieldOf(() => validateAppMessage(state, true))).toBe("hello");
    expect(fieldOf(() => validateAppMessage({ body: { $case: "hello", value: hello } }, true))).toBe(
      "(valid)",
    );
    expect(fieldOf(() => validateAppMessage({ body: { $case: "hello", value: hello } }, false))).toBe(
      "hello",
    );
    expect(fieldOf(() => validateAppMessage({}, false))).toBe("body");
  });

  it("refuses an unknown protocol version by name", () => {
    const m = {
      body: { $case: "hello" as const, value: { ...hello, protocolVersion: 7 as ProtocolVersion } },
    };
    expect(fieldOf(() => validateAppMessage(m, true))).toBe("hello.protocol_version");
  });

  it("refuses an unknown drain state", () => {
    const m = {
      body: {
        $case: "state" as const,
        value: {
          ready: true,
          drain: 9 as DrainState,
          inflight: 0,
          warmingUp: false,
          pendingGates: [],
          lazyAgents: [],
        },
      },
    };
    expect(fieldOf(() => validateAppMessage(m, false))).toBe("state.drain");
  });

  it("checks readiness gate names and lazy agent statuses", () => {
    const base = {
      ready: false,
      drain: DrainState.DRAIN_STATE_SERVING,
      inflight: 0,
      warmingUp: true,
      pendingGates: ["db", "cache.warm"],
      lazyAgents: [
        {
          name: "tracer",
          state: LazyAgentState.LAZY_AGENT_STATE_LOADED,
          loadMs: 120,
          error: "",
          preloaded: false,
        },
      ],
    };
    const msg = (value: typeof base) => ({ body: { $case: "state" as const, value } });
    expect(fieldOf(() => validateAppMessage(msg(base), false))).toBe("(valid)");
    expect(fieldOf(() => validateAppMessage(msg({ ...base, pendingGates: ["DB"] }), false))).toBe(
      "state.pending_gates[0]",
    );
    const badState = { ...base, lazyAgents: [{ ...base.lazyAgents[0]!, state: 0 as LazyAgentState }] };
    expect(fieldOf(() => validateAppMessage(msg(badState), false))).toBe("state.lazy_agents[0].state");
    const badMs = { ...base, lazyAgents: [{ ...base.lazyAgents[0]!, loadMs: Number.NaN }] };
    expect(fieldOf(() => validateAppMessage(msg(badMs), false))).toBe("state.lazy_agents[0].load_ms");
  });

  it("checks the agent hello's pod identity and interval", () => {
    const good = {
      protocolVersion: ProtocolVersion.PROTOCOL_VERSION_V1,
      agentVersion: "0.1.0",
      reportIntervalMs: 1000,
      pod: { namespace: "default", podName: "web-1", uid: "", nodeName: "", containers: [], address: "" },
    };
    const msg = (h: typeof good) => ({ body: { $case: "hello" as const, value: h } });
    expect(fieldOf(() => validateAgentMessage(msg(good), true))).toBe("(valid)");
    expect(fieldOf(() => validateAgentMessage(msg({ ...good, reportIntervalMs: 5 }), true))).toBe(
      "hello.report_interval_ms",
    );
    expect(
      fieldOf(() => validateAgentMessage(msg({ ...good, pod: { ...good.pod, podName: "Web_1" } }), true)),
    ).toBe("hello.pod.pod_name");
  });

  it("refuses NaN cgroup figures in a pod report", () => {
    const report = {
      seq: 1,
      at: new Date(),
      apps: [],
      droppedReports: 0,
      cgroup: {
        available: true,
        unavailableReason: "",
        version: 2,
        cpuCores: Number.NaN,
        memoryBytes: 1,
        cpuLimitCores: 0,
        memoryLimitBytes: 0,
        source: "cgroup",
      },
    };
    expect(fieldOf(() => validateAgentMessage({ body: { $case: "report", value: report } }, false))).toBe(
      "report.cgroup.cpu_cores",
    );
  });
});

describe("wire compatibility", () => {
  it("tolerates unknown fields from a newer peer", () => {
    const known = AppMessage.encode({ body: { $case: "report", value: goodReport() } }).finish();
    // Append field 99 (a string) that this build does not know.
    const extra = new BinaryWriter()
      .uint32((99 << 3) | 2)
      .string("from the future")
      .finish();
    const decoded = AppMessage.decode(new Uint8Array([...known, ...extra]));
    expect(decoded.body?.$case).toBe("report");
    expect(fieldOf(() => validateAppMessage(decoded, false))).toBe("(valid)");
  });

  it("round-trips an agent report", () => {
    const msg: AgentMessage = {
      body: {
        $case: "report",
        value: {
          seq: 3,
          at: new Date(1_700_000_000_123),
          droppedReports: 2,
          apps: [
            {
              serviceName: "web",
              pid: 7,
              ready: true,
              drain: DrainState.DRAIN_STATE_SERVING,
              load: goodReport(),
            },
          ],
          cgroup: undefined,
        },
      },
    };
    expect(AgentMessage.decode(AgentMessage.encode(msg).finish())).toEqual(msg);
  });
});
