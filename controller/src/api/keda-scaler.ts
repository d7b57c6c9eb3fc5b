import { keda } from "@ballast/proto";
import {
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
  status,
} from "@grpc/grpc-js";
import type { Clock } from "../clock.js";
import type { WorkloadSignal, WorkloadSignals } from "../metrics/workload-signals.js";

/** What a ScaledObject's trigger metadata asks for. */
export interface KedaQuery {
  namespace: string;
  kind: string;
  workload: string;
  signal: string;
  /** Per-replica target of the signal. */
  target: number;
  /** Activity: the workload is active while the signal's total is above this. */
  activationThreshold: number;
  metricName: string;
}

class QueryError extends Error {}

/** Reads and checks a ScaledObjectRef; every problem names its metadata key. */
export function kedaQuery(ref: keda.ScaledObjectRef | undefined): KedaQuery {
  const md = ref?.scalerMetadata ?? {};
  const problems: string[] = [];
  if (!ref?.namespace) problems.push("namespace: required");
  const signal = md.signal ?? "";
  if (!/^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/.test(signal))
    problems.push(
      `scalerMetadata.signal: required, a signal name such as inflight or queue_backlog, got ${JSON.stringify(signal)}`,
    );
  const target = Number(md.target);
  if (!(Number.isFinite(target) && target > 0))
    problems.push(`scalerMetadata.target: must be a number above 0, got ${JSON.stringify(md.target)}`);
  const activation = md.activationThreshold === undefined ? 0 : Number(md.activationThreshold);
  if (!(Number.isFinite(activation) && activation >= 0))
    problems.push(
      `scalerMetadata.activationThreshold: must be a number ≥ 0, got ${JSON.stringify(md.activationThreshold)}`,
    );
  const workload = md.workload ?? ref?.name ?? "";
  if (!workload) problems.push("scalerMetadata.workload: required (defaults to the ScaledObject's name)");
  if (problems.length > 0) throw new QueryError(problems.join("; "));
  // Other keys (scalerAddress, KEDA's own) are forwarded by KEDA too; they are not errors.
  return {
    namespace: ref?.namespace as string,
    kind: md.kind ?? "Deployment",
    workload,
    signal,
    target,
    activationThreshold: activation,
    metricName: md.metricName ?? `ballast-${signal.replace(/[^A-Za-z0-9-]/g, "-").toLowerCase()}`,
  };
}

export interface KedaScalerOptions {
  signals: WorkloadSignals;
  clock: Clock;
  log: (line: string) => void;
  /** How often StreamIsActive looks for an activity change (default 250 ms). */
  pushCheckMs?: number;
}

/**
 * KEDA's externalscaler.ExternalScaler over Ballast's pushed signals. The metric is the workload's
 * total (KEDA's default AverageValue divides it by the replicas, against `target` per replica).
 * Metadata: signal, target (per replica), and optionally workload (default: the ScaledObject's name),
 * kind (default Deployment), activationThreshold (default 0), metricName.
 * Missing data is an error (UNAVAILABLE), never 0: KEDA then counts a failure and applies its
 * fallback instead of scaling down, or to zero, on silence.
 */
export function kedaScalerImplementation(o: KedaScalerOptions): keda.ExternalScalerServer {
  const read = (q: KedaQuery): WorkloadSignal => {
    const v = o.signals.read(q.namespace, q.kind, q.workload, q.signal, o.clock.now());
    if (!v)
      throw Object.assign(
        new Error(`no pod of ${q.kind}/${q.workload} in ${q.namespace} reports ${q.signal}`),
        { code: status.UNAVAILABLE },
      );
    return v;
  };
  const unary =
    <Req, Res>(fn: (req: Req) => Res) =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      try {
        callback(null, fn(call.request));
      } catch (e) {
        const code =
          e instanceof QueryError
            ? status.INVALID_ARGUMENT
            : ((e as { code?: status }).code ?? status.INTERNAL);
        callback({ code, details: (e as Error).message });
      }
    };
  return {
    isActive: unary((ref: keda.ScaledObjectRef) => {
      const q = kedaQuery(ref);
      return { result: read(q).total > q.activationThreshold };
    }),
    getMetricSpec: unary((ref: keda.ScaledObjectRef) => {
      const q = kedaQuery(ref);
      return {
        metricSpecs: [
          {
            metricName: q.metricName,
            targetSize: Math.max(1, Math.round(q.target)),
            targetSizeFloat: q.target,
          },
        ],
      };
    }),
    getMetrics: unary((req: keda.GetMetricsRequest) => {
      const q = kedaQuery(req.scaledObjectRef);
      const { total } = read(q);
      return {
        metricValues: [
          {
            metricName: req.metricName || q.metricName,
            metricValue: Math.round(total),
            metricValueFloat: total,
          },
        ],
      };
    }),
    streamIsActive: (call: ServerWritableStream<keda.ScaledObjectRef, keda.IsActiveResponse>) => {
      let q: KedaQuery;
      try {
        q = kedaQuery(call.request);
      } catch (e) {
        call.destroy(
          Object.assign(new Error((e as Error).message), {
            code: status.INVALID_ARGUMENT,
            details: (e as Error).message,
          }),
        );
        return;
      }
      // Activity is sent when it is first known and on every change; silence sends nothing.
      let last: boolean | undefined;
      const check = () => {
        const v = o.signals.read(q.namespace, q.kind, q.workload, q.signal, o.clock.now());
        if (!v) return;
        const active = v.total > q.activationThreshold;
        if (active !== last) {
          last = active;
          call.write({ result: active });
        }
      };
      check();
      const timer = setInterval(check, o.pushCheckMs ?? 250);
      const end = () => clearInterval(timer);
      call.on("cancelled", end);
      call.on("close", end);
      call.on("error", end);
    },
  };
}

/** Serves the KEDA external scaler on its own address (KEDA dials it from trigger metadata). */
export async function startKedaScaler(
  address: string,
  o: KedaScalerOptions,
): Promise<{ port: number; close: () => Promise<void> }> {
  const server = new Server();
  server.addService(keda.ExternalScalerService, kedaScalerImplementation(o));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  o.log(`keda: external scaler on port ${port}`);
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000);
        server.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      }),
  };
}
