import { PREDICTIVE_DEFAULTS, WorkloadForecast } from "../scaling/predictive.js";
import type { ScalingPolicySpec } from "../scaling/types.js";
import { fetchHistory } from "./prometheus-history.js";

/**
 * A fresh forecast for `spec`, warmed with its `predictive.history` read from Prometheus at `url` over
 * the `lookbackDays` before `now`. Errors name the field (`<field>.query`, …); the caller reports them
 * and keeps its live forecast.
 */
export async function forecastFromHistory(
  spec: ScalingPolicySpec,
  url: string,
  now: number,
  field: string,
): Promise<{ forecast: WorkloadForecast; points: number; days: number }> {
  const history = spec.predictive?.history?.prometheus;
  if (!history) throw new Error(`${field}: not set`);
  const days = history.lookbackDays ?? PREDICTIVE_DEFAULTS.lookbackDays;
  const bucket = spec.predictive?.bucketSeconds ?? PREDICTIVE_DEFAULTS.bucketSeconds;
  const series = await fetchHistory({
    url,
    query: history.query,
    start: now - days * 86_400_000,
    end: now,
    // Finer than the buckets, so each bucket's mean comes from several points.
    stepSeconds: Math.min(60, bucket),
    field,
  });
  const forecast = new WorkloadForecast(spec);
  forecast.warm(series.t, series.v);
  return { forecast, points: series.t.length, days };
}
