export {
  attach,
  Ballast,
  ballast,
  type DrainEvent,
  type Instrumentable,
  type InstrumentOptions,
  instrument,
  type ReadinessGate,
} from "./ballast.js";
export { type DrainResult, type DrainTiming, drainTimingFor, runDrain } from "./drain-timeline.js";
export {
  type FastifyLike,
  instrumentExpress,
  instrumentFastify,
  instrumentKoa,
  type ListeningApp,
} from "./frameworks.js";
export { GrpcServerAdapter, grpcInterceptor } from "./grpc-instrumentation.js";
export { HttpServerAdapter } from "./http-instrumentation.js";
export { type AnyHttp2Server, Http2ServerAdapter } from "./http2-instrumentation.js";
export { LATENCY_BOUNDS_MS, LatencyHistogram } from "./latency-histogram.js";
export type { LazyAgent, LazyAgentOptions } from "./lazy-agents.js";
export { type Counter, type GaugeFn, LoadMeter, type MeterTotals } from "./load-meter.js";
export { type PrometheusOptions, prometheusRegistry } from "./prometheus.js";
export {
  durationSeconds,
  type HoldOptions,
  ReplicaApiError,
  ReplicaClient,
  type ReplicaClientOptions,
  type ReplicaOverride,
} from "./replica-client.js";
export type { ServerAdapter } from "./server-adapter.js";
export { SDK_VERSION } from "./version.js";
