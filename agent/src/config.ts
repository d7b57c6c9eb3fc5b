import { parseArgs } from "node:util";
import { MAX_REPORT_INTERVAL_MS, MIN_REPORT_INTERVAL_MS } from "@ballast/proto";
import type { UsageSource } from "./usage-sampler.js";

export interface AgentConfig {
  socketPath: string;
  controller: string | undefined;
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
  --controller HOST:PORT     controller's AgentLink address [env BALLAST_CONTROLLER; without it nothing is sent]
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
  if (controller && !/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$|^unix:\/\/\//.test(controller)) {
    throw new ConfigError(controllerField, `must be HOST:PORT, got ${JSON.stringify(controller)}`);
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
  return {
    socketPath: pick("socket", "BALLAST_AGENT_SOCKET", "/var/run/ballast/agent.sock")[1],
    controller: controller || undefined,
    probeHost: pick("probe-host", "BALLAST_PROBE_HOST", "0.0.0.0")[1],
    probePort: integer(portField, port, 0, 65535),
    reportIntervalMs: integer(intervalField, interval, MIN_REPORT_INTERVAL_MS, MAX_REPORT_INTERVAL_MS),
    bufferCapacity: integer(bufferField, buffer, 1, 100_000),
    usageSource: source,
    drainDeadlineMs: integer(deadlineField, deadline, 0, 3_600_000),
    namespace: pick("namespace", "POD_NAMESPACE", "default")[1],
    podName: pick("pod-name", "POD_NAME", hostname)[1],
    podUid: pick("pod-uid", "POD_UID", "")[1],
    nodeName: pick("node-name", "NODE_NAME", "")[1],
    workload,
    appAddress: pick("app-address", "BALLAST_APP_ADDRESS", "")[1],
  };
}
