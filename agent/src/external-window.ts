import type { LoadReport } from "@ballast/proto";

/** What a non-Node app (pushed JSON or a scraped Prometheus endpoint) tells about one window. */
export interface ExternalWindow {
  startMs: number;
  endMs: number;
  inflight: number;
  completed: number;
  errors: number;
  latencySumMs?: number;
  gauges: Record<string, number>;
  counters: Record<string, number>;
}

/** A LoadReport for a window measured outside the SDK: no latency buckets, no event-loop figures. */
export function externalLoadReport(w: ExternalWindow): LoadReport {
  return {
    windowStart: new Date(w.startMs),
    windowEnd: new Date(Math.max(w.endMs, w.startMs + 1)),
    inflightNow: w.inflight,
    inflightAvg: w.inflight,
    inflightMax: w.inflight,
    requestsCompleted: w.completed,
    errors: Math.min(w.errors, w.completed),
    latency:
      w.latencySumMs !== undefined
        ? { boundsMs: [], counts: [w.completed], sumMs: w.latencySumMs }
        : undefined,
    eventLoop: undefined,
    heap: undefined,
    gauges: w.gauges,
    gcPauseMs: 0,
    warmingUp: false,
    counters: w.counters,
  };
}
