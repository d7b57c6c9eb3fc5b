import type { LoadReport } from "@ballast/proto";

/**
 * Merges consecutive windows of one app into one window, so each PodReport carries every window
 * exactly once however the app's and the agent's periods line up: counts, counters and GC pause time
 * add, the in-flight mean is weighted by window length, maxima take the max, gauges and heap take the
 * newest, and the merge is warming up if any of its windows was.
 */
export function mergeLoadReports(reports: readonly LoadReport[]): LoadReport | undefined {
  if (reports.length <= 1) return reports[0];
  const first = reports[0] as LoadReport;
  const last = reports[reports.length - 1] as LoadReport;
  let weighted = 0;
  let eluWeighted = 0;
  let span = 0;
  for (const r of reports) {
    const ms = (r.windowEnd as Date).getTime() - (r.windowStart as Date).getTime();
    weighted += r.inflightAvg * ms;
    eluWeighted += (r.eventLoop?.utilization ?? 0) * ms;
    span += ms;
  }
  const inflightMax = Math.max(...reports.map((r) => r.inflightMax));
  const sameBounds = reports.every(
    (r) =>
      r.latency &&
      r.latency.boundsMs.length === first.latency?.boundsMs.length &&
      r.latency.boundsMs.every((b, i) => b === first.latency?.boundsMs[i]),
  );
  const loops = reports.map((r) => r.eventLoop).filter((e) => e !== undefined);
  return {
    windowStart: first.windowStart,
    windowEnd: last.windowEnd,
    inflightNow: last.inflightNow,
    inflightAvg: span > 0 ? Math.min(weighted / span, inflightMax) : last.inflightAvg,
    inflightMax,
    requestsCompleted: reports.reduce((s, r) => s + r.requestsCompleted, 0),
    errors: reports.reduce((s, r) => s + r.errors, 0),
    latency:
      sameBounds && first.latency
        ? {
            boundsMs: first.latency.boundsMs,
            counts: first.latency.counts.map((_, i) =>
              reports.reduce((s, r) => s + (r.latency?.counts[i] ?? 0), 0),
            ),
            sumMs: reports.reduce((s, r) => s + (r.latency?.sumMs ?? 0), 0),
          }
        : undefined,
    eventLoop:
      loops.length > 0
        ? {
            // Percentiles do not merge exactly; the worst window's is the safe reading for scaling.
            delayP50Ms: Math.max(...loops.map((e) => e.delayP50Ms)),
            delayP99Ms: Math.max(...loops.map((e) => e.delayP99Ms)),
            delayMaxMs: Math.max(...loops.map((e) => e.delayMaxMs)),
            delayMeanMs: loops.reduce((s, e) => s + e.delayMeanMs, 0) / loops.length,
            utilization: span > 0 ? Math.min(eluWeighted / span, 1) : (last.eventLoop?.utilization ?? 0),
          }
        : undefined,
    heap: last.heap,
    gauges: last.gauges,
    gcPauseMs: reports.reduce((s, r) => s + (r.gcPauseMs ?? 0), 0),
    warmingUp: reports.some((r) => r.warmingUp),
    counters: mergeCounters(reports),
  };
}

function mergeCounters(reports: readonly LoadReport[]): { [name: string]: number } {
  const out: { [name: string]: number } = {};
  for (const r of reports) for (const [k, v] of Object.entries(r.counters ?? {})) out[k] = (out[k] ?? 0) + v;
  return out;
}
