import { parseArgs } from "node:util";
import { MAX_REPORT_INTERVAL_MS, MIN_REPORT_INTERVAL_MS } from "@ballast/proto";
import type { UsageSource } from "./usage-sampler.js";

export interface AgentConfig {
  socketPath: string;
  /** AgentLink addresses; the agent streams to each (an active and a standby controller). */
  controllers: string[];
  probeHost: string;
  probePort: number;
  reportIntervalMs: number;
  bufferCapacity: number;
  usageSource: UsageSource;
  drainDeadlineMs: number;
  namespace: string;
  podName: string;
  podUid: string;
  nodeName: string;
  workload: { apiVersion: string; kind: string; name: string } | undefined;
  appAddress: string;
  /** HTTP/JSON push endpoint for apps without the SDK; undefined = off. */
  push: { host: string; port: number } | undefined;
  /** Prometheus endpoint of an app without the SDK, scraped every intervalMs; undefined = off. */
  scrape:
    | {
        url: string;
        serviceName: string;
        intervalMs: number;
        inflight: string;
        requests: string;
        gauges: string[];
        drainWaitMs: number;
      }
    | undefined;
}

/** A flag or environment variable with a bad value; `field` names it. */
export class ConfigError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = "ConfigError";
  }
}

export const USAGE = `ballast-agent: Ballast's sidecar (or VM daemon)

Receives load reports from apps instrumented with @ballast/sdk over a unix socket, adds CPU and memory
use, serves kubelet probes and preStop, and streams everything to the Ballast controller.

Usage: ballast-agent [flags]

  --socket PATH              PodLink unix socket            [env BALLAST_AGENT_SOCKET, default /var/run/ballast/agent.sock]
  --controller HOST:PORT[,…] controller AgentLink address(es), each streamed to
                             [env BALLAST_CONTROLLER; without it nothing is sent]
  --probe-host HOST          probe server address           [env BALLAST_PROBE_HOST, default 0.0.0.0]
  --probe-port PORT          probe server port, 0 = any     [env BALLAST_PROBE_PORT, default 9901]
  --report-interval-ms MS    report period, 100..60000      [env BALLAST_REPORT_INTERVAL_MS, default 1000]
  --buffer N                 reports kept while the controller is unreachable [default 120]
  --usage-source SRC         cgroup | process | none        [env BALLAST_USAGE_SOURCE, default cgroup]
  --drain-deadline-ms MS     preStop drain budget           [env BALLAST_DRAIN_DEADLINE_MS, default 25000]
  --namespace NS             pod namespace                  [env POD_NAMESPACE, default "default"]
  --pod-name NAME            pod name                       [env POD_NAME, default the host name]
  --pod-uid UID              pod UID                        [env POD_UID]
  --node-name NAME           node name                      [env NODE_NAME]
  --workload KIND/NAME       owning workload, e.g. Deployment/web [env BALLAST_WORKLOAD]
  --workload-api-version V   its API version                [env BALLAST_WORKLOAD_API_VERSION, default apps/v1]
  --app-address HOST:PORT    where the app serves           [env BALLAST_APP_ADDRESS]
  -h, --help                 this text

Apps without the SDK (Java, Go, Python, PHP, ...):
  --push-port PORT           accept POST /v1/push JSON reports on this port [env BALLAST_PUSH_PORT; off]
  --push-host HOST           its address                    [env BALLAST_PUSH_HOST, default 127.0.0.1]
  --scrape URL               scrape this Prometheus endpoint [env BALLAST_SCRAPE_URL; off]
  --scrape-service NAME      service name for it            [default app]
  --scrape-interval-ms MS    scrape period                  [default the report interval]
  --scrape-inflight METRIC   gauge of requests in flight    [default http_requests_in_flight]
  --scrape-requests METRIC   counter of requests (5xx code/status labels = errors) [default http_requests_total]
  --scrape-gauges M[,M…]     metrics reported as gauges     [default none]
  --scrape-drain-wait-ms MS  a scraped app cannot be told to drain: report it draining this long on
                             preStop, then drained           [default 5000]

Probes: GET /livez, /readyz, /startupz; GET or POST /prestop runs the drain and returns when done.
`;

function integer(field: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw.trim()))
    throw new ConfigError(field, `must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  const v = Number(raw);
  if (v < min || v > max) throw new ConfigError(field, `must be an integer from ${min} to ${max}, got ${v}`);
  return v;
}

/** Parses flags over environment variables over defaults; throws ConfigError naming the bad one. */
export function parseAgentConfig(
  argv: string[],
  env: NodeJS.ProcessEnv,
  hostname: string,
): AgentConfig | "help" {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        socket: { type: "string" },
        controller: { type: "string" },
        "probe-host": { type: "string" },
        "probe-port": { type: "string" },
        "report-interval-ms": { type: "string" },
        buffer: { type: "string" },
        "usage-source": { type: "string" },
        "drain-deadline-ms": { type: "string" },
        namespace: { type: "string" },
        "pod-name": { type: "string" },
        "pod-uid": { type: "string" },
        "node-name": { type: "string" },
        workload: { type: "string" },
        "workload-api-version": { type: "string" },
        "app-address": { type: "string" },
        "push-port": { type: "string" },
        "push-host": { type: "string" },
        scrape: { type: "string" },
        "scrape-service": { type: "string" },
        "scrape-interval-ms": { type: "string" },
        "scrape-inflight": { type: "string" },
        "scrape-requests": { type: "string" },
        "scrape-gauges": { type: "string" },
        "scrape-drain-wait-ms": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    throw new ConfigError("flags", (e as Error).message);
  }
  if (values.help) return "help";
  const pick = (flag: string, envName: string | undefined, fallback: string): [string, string] => {
    const v = values[flag];
    if (typeof v === "string") return [`--${flag}`, v];
    if (envName && env[envName] !== undefined && env[envName] !== "")
      return [envName, env[envName] as string];
    return [`--${flag}`, fallback];
  };
  const [intervalField, interval] = pick("report-interval-ms", "BALLAST_REPORT_INTERVAL_MS", "1000");
  const [portField, port] = pick("probe-port", "BALLAST_PROBE_PORT", "9901");
  const [bufferField, buffer] = pick("buffer", undefined, "120");
  const [deadlineField, deadline] = pick("drain-deadline-ms", "BALLAST_DRAIN_DEADLINE_MS", "25000");
  const [sourceField, source] = pick("usage-source", "BALLAST_USAGE_SOURCE", "cgroup");
  if (source !== "cgroup" && source !== "process" && source !== "none") {
    throw new ConfigError(sourceField, `must be cgroup, process or none, got ${JSON.stringify(source)}`);
  }
  const [controllerField, controller] = pick("controller", "BALLAST_CONTROLLER", "");
  const controllers = controller ? controller.split(",").map((c) => c.trim()) : [];
  for (const c of controllers) {
    if (!/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$|^unix:\/\/\//.test(c)) {
      throw new ConfigError(controllerField, `must be HOST:PORT[,HOST:PORT…], got ${JSON.stringify(c)}`);
    }
  }
  const [workloadField, workloadRaw] = pick("workload", "BALLAST_WORKLOAD", "");
  let workload: AgentConfig["workload"];
  if (workloadRaw) {
    const m = /^([A-Z][A-Za-z0-9]*)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(workloadRaw);
    if (!m)
      throw new ConfigError(
        workloadField,
        `must be KIND/NAME such as Deployment/web, got ${JSON.stringify(workloadRaw)}`,
      );
    workload = {
      apiVersion: pick("workload-api-version", "BALLAST_WORKLOAD_API_VERSION", "apps/v1")[1],
      kind: m[1] as string,
      name: m[2] as string,
    };
  }
  const reportIntervalMs = integer(intervalField, interval, MIN_REPORT_INTERVAL_MS, MAX_REPORT_INTERVAL_MS);
  const [pushPortField, pushPort] = pick("push-port", "BALLAST_PUSH_PORT", "");
  const push = pushPort
    ? {
        host: pick("push-host", "BALLAST_PUSH_HOST", "127.0.0.1")[1],
        port: integer(pushPortField, pushPort, 0, 65535),
      }
    : undefined;
  const [scrapeField, scrapeUrl] = pick("scrape", "BALLAST_SCRAPE_URL", "");
  let scrape: AgentConfig["scrape"];
  if (scrapeUrl) {
    if (!/^http:\/\/[^\s/]+(\/\S*)?$/.test(scrapeUrl)) {
      throw new ConfigError(scrapeField, `must be an http:// URL, got ${JSON.stringify(scrapeUrl)}`);
    }
    const [svcField, svc] = pick("scrape-service", undefined, "app");
    if (!/^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/.test(svc)) {
      throw new ConfigError(svcField, `must be a lowercase service name, got ${JSON.stringify(svc)}`);
    }
    const [siField, si] = pick("scrape-interval-ms", undefined, String(reportIntervalMs));
    const [swField, sw] = pick("scrape-drain-wait-ms", undefined, "5000");
    const gauges = pick("scrape-gauges", undefined, "")[1];
    scrape = {
      url: scrapeUrl,
      serviceName: svc,
      intervalMs: integer(siField, si, MIN_REPORT_INTERVAL_MS, MAX_REPORT_INTERVAL_MS),
      inflight: pick("scrape-inflight", undefined, "http_requests_in_flight")[1],
      requests: pick("scrape-requests", undefined, "http_requests_total")[1],
      gauges: gauges
        ? gauges
            .split(",")
            .map((g) => g.trim())
            .filter(Boolean)
        : [],
      drainWaitMs: integer(swField, sw, 0, 3_600_000),
    };
  }
  return {
    socketPath: pick("socket", "BALLAST_AGENT_SOCKET", "/var/run/ballast/agent.sock")[1],
    controllers,
    probeHost: pick("probe-host", "BALLAST_PROBE_HOST", "0.0.0.0")[1],
    probePort: integer(portField, port, 0, 65535),
    reportIntervalMs,
    bufferCapacity: integer(bufferField, buffer, 1, 100_000),
    usageSource: source,
    drainDeadlineMs: integer(deadlineField, deadline, 0, 3_600_000),
    namespace: pick("namespace", "POD_NAMESPACE", "default")[1],
    podName: pick("pod-name", "POD_NAME", hostname)[1],
    podUid: pick("pod-uid", "POD_UID", "")[1],
    nodeName: pick("node-name", "NODE_NAME", "")[1],
    workload,
    appAddress: pick("app-address", "BALLAST_APP_ADDRESS", "")[1],
    push,
    scrape,
  };
}
