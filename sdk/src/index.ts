export { Ballast, type InstrumentOptions, instrument } from "./ballast.js";
export { LATENCY_BOUNDS_MS, LatencyHistogram } from "./latency-histogram.js";
export { type GaugeFn, LoadMeter } from "./load-meter.js";
export { SDK_VERSION } from "./version.js";
