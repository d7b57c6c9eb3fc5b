import type { ChannelOptions } from "@grpc/grpc-js";

/**
 * Options for every Ballast gRPC client. grpc-js keeps each client-streamed message in a per-call
 * retry buffer (256 KiB by default) and copies that buffer on every write once it is full, which
 * slows a long-lived report stream to a few thousand messages a second; a small buffer avoids it.
 */
export const CLIENT_CHANNEL_OPTIONS: ChannelOptions = {
  "grpc.per_rpc_retry_buffer_size": 16_384,
  "grpc.keepalive_time_ms": 30_000,
  "grpc.keepalive_timeout_ms": 10_000,
};

/** Largest message the agent accepts from an app (a LoadReport is well under 4 KiB). */
export const POD_LINK_MAX_MESSAGE_BYTES = 64 * 1024;
/** Largest message the controller accepts from an agent (16 apps' reports fit many times over). */
export const AGENT_LINK_MAX_MESSAGE_BYTES = 1024 * 1024;
