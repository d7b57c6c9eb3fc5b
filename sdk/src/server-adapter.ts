/**
 * What the Ballast core asks of a server it instruments. Each adapter (node:http/https, node:http2,
 * gRPC) counts requests into the shared LoadMeter itself and implements the connection side of the
 * drain timeline and of rebalancing; the core decides when each step happens.
 */
export interface ServerAdapter {
  /** "http", "http2" or "grpc", for logs and tests. */
  readonly kind: string;
  /**
   * Drain step 1, while still serving: ask every client to move elsewhere without refusing anything.
   * HTTP/1.1 answers carry `Connection: close`; HTTP/2 and gRPC sessions get a first GOAWAY that still
   * admits every stream (last-stream-id 2^31−1).
   */
  beginDrain(): void;
  /** Drain step 2, after the propagation wait: stop accepting, close idle connections, final GOAWAY. */
  stopAccepting(): void;
  /** Drain step 3, at the deadline: close whatever is still open. */
  forceClose(): void;
  /**
   * Closes `fraction` of the open connections gracefully at random times within `spreadMs`, so their
   * clients reconnect (and land on other replicas). Returns how many were scheduled.
   */
  rebalance(fraction: number, spreadMs: number): number;
  /** Connections (HTTP/1.1 sockets, HTTP/2 sessions) open now. */
  readonly connections: number;
  /** Stops instrumenting; timers are cleared. */
  detach(): void;
}

/** Largest HTTP/2 stream id: a GOAWAY naming it still admits every stream the peer may have sent. */
export const MAX_STREAM_ID = 2 ** 31 - 1;

/** Milliseconds between the first (graceful) GOAWAY of a rebalanced session and its real close. */
export const GOAWAY_GRACE_MS = 1000;

/** `ms` ± `fraction` of it, uniformly. */
export function jitter(ms: number, fraction = 0.1): number {
  return ms * (1 - fraction + 2 * fraction * Math.random());
}

/** A random subset of `items` holding `fraction` of them (at least one when fraction > 0). */
export function pickFraction<T>(items: Iterable<T>, fraction: number): T[] {
  const all = [...items];
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [all[i], all[j]] = [all[j] as T, all[i] as T];
  }
  const n = fraction >= 1 ? all.length : Math.min(all.length, Math.max(1, Math.round(all.length * fraction)));
  return all.slice(0, n);
}

/** A timer that never keeps the process alive. */
export function later(ms: number, fn: () => void): NodeJS.Timeout {
  const t = setTimeout(fn, ms);
  t.unref();
  return t;
}
