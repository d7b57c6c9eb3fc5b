// The ballast.v1 protocol: generated messages and services, plus validation and channel options; `keda`
// is KEDA's external scaler interface, which Ballast serves.
export * from "../gen/index.js";
export * as keda from "../gen/keda/externalscaler.js";
export * from "./backoff.js";
export * from "./channel-options.js";
export * from "./validate.js";
