// Prometheus export of the same signals, through prom-client (loaded only when this is used). Each
// scrape reads numbers the meter already holds: the latest window for event-loop figures, running
// totals for counters and the latency histogram. Nothing is measured in the scrape path, so a scrape
// never reports its own cost as event-loop delay.
import type { Registry } from "prom-client";
import type { Ballast } from "./ballast.js";

export interface PrometheusOptions {
  /** Registry to add the metrics to; default a new one. */
  registry?: Registry;
  /** Prefix of every metric name; default "ballast_". */
  prefix?: string;
}

interface Sample {
  value: number;
  labels?: Record<string, string | number>;
  metricName?: string;
}

/** prom-client's metric shape (`registerMetric` takes any object that has it). */
interface MetricLike {
  name: string;
  help: string;
  type: "gauge" | "counter" | "histogram";
  aggregator: "sum" | "max" | "average";
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }>;
  reset(): void;
}

function metric(name: string, help: string, type: MetricLike["type"], values: () => Sample[]): MetricLike {
  return {
    name,
    help,
    type,
    aggregator: "sum",
    async get() {
      return { name, help, type, aggregator: "sum", values: values() };
    },
    reset() {},
  };
}

/** Registers Ballast's signals in a prom-client registry and returns it (`await registry.metrics()`). */
export async function prometheusRegistry(b: Ballast, options: PrometheusOptions = {}): Promise<Registry> {
  const prom = await import("prom-client");
  const registry = options.registry ?? new prom.Registry();
  const p = options.prefix ?? "ballast_";
  b.startWindows();
  const m = b.meter;
  const last = () => b.lastReport;
  const one = (v: number | undefined) => [{ value: v ?? 0 }];
  const metrics: MetricLike[] = [
    metric(`${p}inflight_requests`, "Requests in flight now.", "gauge", () => one(b.inflight)),
    metric(`${p}requests_total`, "Requests completed (up to the latest window).", "counter", () =>
      one(m.totals.requestsCompleted),
    ),
    metric(`${p}request_errors_total`, "Completed requests that failed (5xx, aborted).", "counter", () =>
      one(m.totals.errors),
    ),
    metric(`${p}request_duration_seconds`, "Request latency (up to the latest window).", "histogram", () => {
      const bounds = last()?.latency?.boundsMs ?? [];
      const counts = m.totals.latencyCounts;
      const out: Sample[] = [];
      let cumulative = 0;
      bounds.forEach((b, i) => {
        cumulative += counts[i] ?? 0;
        out.push({
          metricName: `${p}request_duration_seconds_bucket`,
          labels: { le: b / 1000 },
          value: cumulative,
        });
      });
      cumulative += counts[bounds.length] ?? 0;
      out.push({
        metricName: `${p}request_duration_seconds_bucket`,
        labels: { le: "+Inf" },
        value: cumulative,
      });
      out.push({ metricName: `${p}request_duration_seconds_sum`, value: m.totals.latencySumMs / 1000 });
      out.push({ metricName: `${p}request_duration_seconds_count`, value: cumulative });
      return out;
    }),
    metric(
      `${p}event_loop_delay_seconds`,
      "Event-loop delay over the latest window, by statistic.",
      "gauge",
      () => {
        const e = last()?.eventLoop;
        return [
          { labels: { stat: "p50" }, value: (e?.delayP50Ms ?? 0) / 1000 },
          { labels: { stat: "p99" }, value: (e?.delayP99Ms ?? 0) / 1000 },
          { labels: { stat: "max" }, value: (e?.delayMaxMs ?? 0) / 1000 },
          { labels: { stat: "mean" }, value: (e?.delayMeanMs ?? 0) / 1000 },
        ];
      },
    ),
    metric(`${p}event_loop_utilization`, "Share of the latest window the loop was busy (0–1).", "gauge", () =>
      one(last()?.eventLoop?.utilization),
    ),
    metric(`${p}gc_pause_seconds_total`, "Time paused in garbage collection.", "counter", () =>
      one(m.totals.gcPauseMs / 1000),
    ),
    metric(`${p}heap_used_bytes`, "JavaScript heap in use at the end of the latest window.", "gauge", () =>
      one(last()?.heap?.usedBytes),
    ),
    metric(`${p}ready`, "1 when the app is ready and serving.", "gauge", () => one(b.isReady ? 1 : 0)),
    metric(`${p}draining`, "1 while the app drains.", "gauge", () => one(b.draining ? 1 : 0)),
    metric(`${p}warming_up`, "1 while the app warms up.", "gauge", () => one(b.isWarmingUp() ? 1 : 0)),
    metric(`${p}gauge`, "App-defined gauges at the end of the latest window.", "gauge", () =>
      Object.entries(last()?.gauges ?? {}).map(([name, value]) => ({ labels: { name }, value })),
    ),
    metric(`${p}counter_total`, "App-defined counters (up to the latest window).", "counter", () =>
      Object.entries(m.totals.counters).map(([name, value]) => ({ labels: { name }, value })),
    ),
  ];
  for (const x of metrics) registry.registerMetric(x as unknown as Parameters<Registry["registerMetric"]>[0]);
  return registry;
}
