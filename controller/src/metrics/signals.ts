import type { AppReport, LoadReport, PodReport } from "@ballast/proto";

/**
 * Signals a policy can scale on, computed per pod from its agent's latest report. Any other name is
 * read as a custom gauge the apps report (summed over the pod's apps), e.g. `queue_backlog`.
 */
export const BUILTIN_SIGNALS = {
  inflight: "requests in flight, time-weighted mean over the window",
  inflight_max: "most requests in flight at once in the window",
  rps: "requests completed per second",
  error_ratio: "failed ÷ completed requests",
  latency_mean_ms: "mean request latency",
  latency_p50_ms: "median request latency",
  latency_p95_ms: "95th-percentile request latency",
  latency_p99_ms: "99th-percentile request latency",
  event_loop_utilization: "busiest app's event-loop utilization, 0 to 1",
  event_loop_delay_p99_ms: "worst app's p99 event-loop delay",
  heap_used_ratio: "heap used ÷ heap limit of the fullest app",
  cpu_cores: "CPU used by the pod, in cores",
  memory_bytes: "memory used by the pod",
} as const;

export type BuiltinSignal = keyof typeof BUILTIN_SIGNALS;

function loads(report: PodReport): LoadReport[] {
  return report.apps.map((a: AppReport) => a.load).filter((l): l is LoadReport => l !== undefined);
}

function windowSeconds(l: LoadReport): number {
  return ((l.windowEnd as Date).getTime() - (l.windowStart as Date).getTime()) / 1000;
}

/** Quantile from histogram buckets, interpolating linearly inside the bucket it falls in. */
export function histogramQuantile(
  boundsMs: readonly number[],
  counts: readonly number[],
  q: number,
): number | undefined {
  const total = counts.reduce((s, c) => s + c, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] as number;
    if (c > 0 && seen + c >= rank) {
      if (i >= boundsMs.length) return boundsMs[boundsMs.length - 1]; // overflow bucket: its lower bound
      const lower = i === 0 ? 0 : (boundsMs[i - 1] as number);
      const upper = boundsMs[i] as number;
      return lower + ((upper - lower) * (rank - seen)) / c;
    }
    seen += c;
  }
  return boundsMs[boundsMs.length - 1];
}

/** Merges the apps' latency histograms; apps with other bounds than the first are left out. */
function mergedLatency(
  ls: LoadReport[],
): { bounds: number[]; counts: number[]; sum: number; n: number } | undefined {
  const first = ls.find((l) => l.latency && l.latency.boundsMs.length > 0)?.latency;
  if (!first) return undefined;
  const counts = new Array<number>(first.counts.length).fill(0);
  let sum = 0;
  for (const l of ls) {
    const h = l.latency;
    if (
      !h ||
      h.boundsMs.length !== first.boundsMs.length ||
      h.boundsMs.some((b, i) => b !== first.boundsMs[i])
    )
      continue;
    h.counts.forEach((c, i) => {
      counts[i] = (counts[i] as number) + c;
    });
    sum += h.sumMs;
  }
  return { bounds: first.boundsMs, counts, sum, n: counts.reduce((s, c) => s + c, 0) };
}

/**
 * The value of `signal` for one pod's report, or undefined when the report does not carry it (no app
 * has reported yet, no request completed for a latency signal, usage unavailable). Undefined means
 * missing to the scaling core, never zero.
 */
export function signalValue(report: PodReport, signal: string): number | undefined {
  const ls = loads(report);
  const sum = (f: (l: LoadReport) => number) =>
    ls.length === 0 ? undefined : ls.reduce((s, l) => s + f(l), 0);
  const max = (f: (l: LoadReport) => number) => (ls.length === 0 ? undefined : Math.max(...ls.map(f)));
  switch (signal) {
    case "inflight":
      return sum((l) => l.inflightAvg);
    case "inflight_max":
      return sum((l) => l.inflightMax);
    case "rps":
      return sum((l) => l.requestsCompleted / windowSeconds(l));
    case "error_ratio": {
      const done = sum((l) => l.requestsCompleted);
      return done ? (sum((l) => l.errors) as number) / done : undefined;
    }
    case "latency_mean_ms": {
      const h = mergedLatency(ls);
      return h && h.n > 0 ? h.sum / h.n : undefined;
    }
    case "latency_p50_ms":
    case "latency_p95_ms":
    case "latency_p99_ms": {
      const h = mergedLatency(ls);
      const q = signal === "latency_p50_ms" ? 0.5 : signal === "latency_p95_ms" ? 0.95 : 0.99;
      return h ? histogramQuantile(h.bounds, h.counts, q) : undefined;
    }
    case "event_loop_utilization":
      return max((l) => l.eventLoop?.utilization ?? 0);
    case "event_loop_delay_p99_ms":
      return max((l) => l.eventLoop?.delayP99Ms ?? 0);
    case "heap_used_ratio":
      return max((l) => (l.heap && l.heap.limitBytes > 0 ? l.heap.usedBytes / l.heap.limitBytes : 0));
    case "cpu_cores":
      return report.cgroup?.available ? report.cgroup.cpuCores : undefined;
    case "memory_bytes":
      return report.cgroup?.available ? report.cgroup.memoryBytes : undefined;
    default: {
      const withGauge = ls.filter((l) => signal in l.gauges);
      return withGauge.length === 0
        ? undefined
        : withGauge.reduce((s, l) => s + (l.gauges[signal] as number), 0);
    }
  }
}
