/** The scaling core: pure functions of their inputs and `now`. */
export * from "./behavior-defaults.js";
export * from "./conditions.js";
export * from "./decision-text.js";
export * from "./metrics.js";
export * from "./object-metric-replicas.js";
export * from "./pipeline.js";
export * from "./pod-grouping.js";
export * from "./pod-metric-replicas.js";
export * from "./pod-requests.js";
export * from "./rate-limits.js";
export * from "./replica-calculator.js";
export * from "./replica-count.js";
export * from "./scale-events.js";
export * from "./stabilization.js";
export * from "./tolerance.js";
export * from "./types.js";
export * from "./validate.js";
