import { KubeConfig } from "@kubernetes/client-node";
import { systemClock } from "../clock.js";
import { KubeMode } from "../kube/kube-mode.js";
import { FlagError, parseFlags } from "./flag-error.js";
import { isHostPort } from "./host-port.js";
import { isHttpUrl } from "./http-url.js";

export const KUBE_USAGE = `  ballast kube [--kubeconfig FILE] [--agent-listen HOST:PORT] [--lease-namespace NS] [options]
      Kube mode: scales the targets of ScalingPolicy objects through their /scale subresource, from
      the signals of the agents that connect to --agent-listen. Run two for high availability: one
      leads through a coordination.k8s.io Lease, the other stands by with warm data.
      --kubeconfig FILE            default: in-cluster config, else $KUBECONFIG or ~/.kube/config
      --agent-listen HOST:PORT     AgentLink address (default 0.0.0.0:7070)
      --lease-namespace NS         namespace of the Lease (default $POD_NAMESPACE or ballast-system)
      --lease-name NAME            default ballast-controller
      --identity ID                holder identity (default: host name and a random suffix)
      --sync-period-ms N           decision period per policy, 100..60000 (default 1000)
      --lease-duration-seconds N   2..300 (default 15); the standby takes over after this
      --lease-retry-ms N           renew and retry period, 100..60000 (default 2000)
      --drain-deadline-seconds N   time a scale-in victim gets to finish its work, 0..3600 (default 30)
      --drain-wait-seconds N       how long scale-in waits for drained victims, 0..3600 (default 10)
      --api-listen HOST:PORT       replica-control HTTP/JSON API (default 0.0.0.0:8080; "off" to disable)
      --audit-log FILE             append the API's audit trail to FILE as JSON lines
      --keda-listen HOST:PORT      serve KEDA's external scaler (externalscaler.ExternalScaler) over the signals
      --prometheus-url URL         Prometheus for policies' predictive.history (demand history at start-up)
`;

function int(values: Record<string, unknown>, flag: string, min: number, max: number, def: number): number {
  const raw = values[flag];
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new FlagError(`--${flag}: must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return n;
}

/** Parses `ballast kube` flags; throws FlagError naming the flag. */
export function kubeOptions(args: string[]) {
  const values = parseFlags(args, {
    kubeconfig: { type: "string" },
    "agent-listen": { type: "string", default: "0.0.0.0:7070" },
    "lease-namespace": { type: "string", default: process.env.POD_NAMESPACE ?? "ballast-system" },
    "lease-name": { type: "string", default: "ballast-controller" },
    identity: { type: "string" },
    "sync-period-ms": { type: "string" },
    "lease-duration-seconds": { type: "string" },
    "lease-retry-ms": { type: "string" },
    "drain-deadline-seconds": { type: "string" },
    "drain-wait-seconds": { type: "string" },
    "api-listen": { type: "string", default: "0.0.0.0:8080" },
    "audit-log": { type: "string" },
    "keda-listen": { type: "string" },
    "prometheus-url": { type: "string" },
  });
  const address = (flag: string) => {
    const v = values[flag] as string;
    if (!isHostPort(v)) throw new FlagError(`--${flag}: expected HOST:PORT, got ${JSON.stringify(v)}`);
    return v;
  };
  const listen = address("agent-listen");
  const apiListen = values["api-listen"] === "off" ? undefined : address("api-listen");
  const kedaListen = values["keda-listen"] === undefined ? undefined : address("keda-listen");
  const prometheusUrl = values["prometheus-url"] as string | undefined;
  if (prometheusUrl !== undefined && !isHttpUrl(prometheusUrl))
    throw new FlagError(`--prometheus-url: expected an http(s) URL, got ${JSON.stringify(prometheusUrl)}`);
  const leaseDurationMs = int(values, "lease-duration-seconds", 2, 300, 15) * 1000;
  const leaseRetryMs = int(values, "lease-retry-ms", 100, 60_000, 2000);
  if (leaseRetryMs >= leaseDurationMs)
    throw new FlagError("--lease-retry-ms: must be shorter than --lease-duration-seconds");
  return {
    kubeconfig: values.kubeconfig as string | undefined,
    agentListen: listen,
    leaseNamespace: values["lease-namespace"] as string,
    leaseName: values["lease-name"] as string,
    identity: values.identity as string | undefined,
    syncPeriodMs: int(values, "sync-period-ms", 100, 60_000, 1000),
    leaseDurationMs,
    leaseRetryMs,
    drainDeadlineMs: int(values, "drain-deadline-seconds", 0, 3600, 30) * 1000,
    drainWaitMs: int(values, "drain-wait-seconds", 0, 3600, 10) * 1000,
    apiListen,
    auditLog: values["audit-log"] as string | undefined,
    kedaListen,
    prometheusUrl,
  };
}

export async function runKube(args: string[]): Promise<void> {
  const opts = kubeOptions(args);
  const kc = new KubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromDefault();
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const mode = new KubeMode({ ...opts, kc, clock: systemClock, log });
  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    void mode.stop().finally(() => process.exit(code));
  };
  process.once("SIGINT", () => stop(130));
  process.once("SIGTERM", () => stop(143));
  await mode.start();
}
