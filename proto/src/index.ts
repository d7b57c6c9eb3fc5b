// The ballast.v1 protocol: generated messages and services, plus validation and channel options.
export * from "../gen/index.js";
export * from "./backoff.js";
export * from "./channel-options.js";
export * from "./validate.js";
