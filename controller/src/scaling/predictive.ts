/**
 * Predictive scaling: a floor from the forecast demand of one of the policy's metrics. The forecast is
 * converted to replicas with that metric's own target, so a forecast of 2,400 req/s against a target of
 * 80 req/s per pod asks for at least 30. It only ever raises the count; with no usable forecast (still
 * learning, no recent data, or a backtest error above `maxErrorPercent`) the stage does nothing.
 */
import { formatAmount, metricLabel } from "./decision-text.js";
import { mappingFields } from "./field-check.js";
import { DemandForecaster, type ForecastOutlook } from "./forecast.js";
import { effectiveMetrics } from "./metrics.js";
import { podRequest } from "./pod-requests.js";
import { parseQuantity } from "./quantity.js";
import type {
  DecisionInput,
  MetricSpec,
  MetricTarget,
  MetricValues,
  PodInfo,
  PredictiveSpec,
  RecommendationStage,
  ScalingPolicySpec,
} from "./types.js";

export type { PredictiveSpec } from "./types.js";

export const PREDICTIVE_DEFAULTS = Object.freeze({
  horizonSeconds: 600,
  bucketSeconds: 300,
  weekly: true,
  maxErrorPercent: 25,
  lookbackDays: 14,
});

/** Backtested buckets needed before the error is trusted enough to act on. */
const MIN_BACKTESTED = 12;

const KNOWN = [
  "enabled",
  "metric",
  "horizonSeconds",
  "bucketSeconds",
  "weekly",
  "maxErrorPercent",
  "history",
];

/** Checks `predictive`; each problem names its field ("spec.predictive.horizonSeconds: …"). */
export function validatePredictive(
  raw: unknown,
  policy: ScalingPolicySpec,
  path = "spec.predictive",
): string[] {
  const problems: string[] = [];
  const p = mappingFields(raw, path, KNOWN, problems);
  if (!p) return problems;
  if (p.enabled !== undefined && typeof p.enabled !== "boolean")
    problems.push(`${path}.enabled: must be true or false`);
  if (p.weekly !== undefined && typeof p.weekly !== "boolean")
    problems.push(`${path}.weekly: must be true or false`);
  const int = (k: string, lo: number, hi: number) => {
    const v = p[k];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi))
      problems.push(`${path}.${k}: must be an integer from ${lo} to ${hi}`);
  };
  int("horizonSeconds", 60, 3600);
  int("bucketSeconds", 60, 3600);
  int("maxErrorPercent", 1, 1000);
  const bucket = (p.bucketSeconds as number | undefined) ?? PREDICTIVE_DEFAULTS.bucketSeconds;
  if (Number.isInteger(bucket) && 86_400 % bucket !== 0)
    problems.push(`${path}.bucketSeconds: must divide a day (86400) evenly`);
  problems.push(...metricFieldProblems(p.metric, policy, `${path}.metric`));
  if (p.history !== undefined) {
    const h = p.history as { prometheus?: { query?: unknown; lookbackDays?: unknown } };
    const at = `${path}.history.prometheus`;
    if (!h || typeof h !== "object" || !h.prometheus || typeof h.prometheus !== "object")
      problems.push(`${path}.history: must be {prometheus: {query, lookbackDays}}`);
    else {
      if (typeof h.prometheus.query !== "string" || h.prometheus.query.trim() === "")
        problems.push(`${at}.query: must be a PromQL expression`);
      const d = h.prometheus.lookbackDays;
      if (d !== undefined && !(Number.isInteger(d) && (d as number) >= 1 && (d as number) <= 35))
        problems.push(`${at}.lookbackDays: must be an integer from 1 to 35`);
    }
  }
  return problems;
}

/** The name a metric is referred to by in `predictive.metric`. */
export function metricName(spec: MetricSpec): string | undefined {
  switch (spec?.type) {
    case "Resource":
      return spec.resource?.name;
    case "ContainerResource":
      return spec.containerResource?.name;
    case "Pods":
      return spec.pods?.metric?.name;
    case "Object":
      return spec.object?.metric?.name;
    case "External":
      return spec.external?.metric?.name;
    case "Signal":
      return spec.signal?.name;
    default:
      return undefined;
  }
}

/** The target of any metric source. */
function targetOf(spec: MetricSpec): MetricTarget | undefined {
  switch (spec.type) {
    case "Resource":
      return spec.resource.target;
    case "ContainerResource":
      return spec.containerResource.target;
    case "Pods":
      return spec.pods.target;
    case "Object":
      return spec.object.target;
    case "External":
      return spec.external.target;
    case "Signal":
      return spec.signal.target;
    default:
      return undefined;
  }
}

function perPodTargetKind(spec: MetricSpec): "AverageValue" | "Utilization" | undefined {
  const target = targetOf(spec);
  if (target?.type === "AverageValue") return "AverageValue";
  if (target?.type === "Utilization" && (spec.type === "Resource" || spec.type === "ContainerResource"))
    return "Utilization";
  return undefined;
}

/**
 * The metric whose demand is forecast: the one named, or the first with a per-pod target (AverageValue
 * or Utilization), since only those turn a total into a replica count. A string says why none can be.
 */
export function forecastMetric(
  policy: ScalingPolicySpec,
  name?: string,
): { index: number; spec: MetricSpec } | string {
  const specs = effectiveMetrics(policy);
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i] as MetricSpec;
    if (name !== undefined && metricName(spec) !== name) continue;
    if (perPodTargetKind(spec)) return { index: i, spec };
    if (name !== undefined)
      return `${metricLabel(spec)} has no AverageValue or Utilization target to divide a forecast by`;
  }
  return name !== undefined
    ? `no metric named ${JSON.stringify(name)} in the policy`
    : "no metric with an AverageValue or Utilization target to forecast";
}

/**
 * The problems with a `metric` field that names the metric a floor learns from (`predictive.metric`,
 * `burstHeadroom.metric`): not a string, or no usable metric by that name (or none at all when unset).
 */
export function metricFieldProblems(value: unknown, policy: ScalingPolicySpec, path: string): string[] {
  if (value !== undefined && typeof value !== "string") return [`${path}: must be a string`];
  const m = forecastMetric(policy, value as string | undefined);
  return typeof m === "string" ? [`${path}: ${m}`] : [];
}

/** The demand one replica is meant to carry, in the metric's milli-units; undefined when unknown. */
export function perPodTarget(spec: MetricSpec, pods: readonly PodInfo[]): number | undefined {
  if (perPodTargetKind(spec) === "AverageValue") {
    try {
      const v = parseQuantity(targetOf(spec)?.averageValue as string | number);
      return v > 0 ? v : undefined;
    } catch {
      return undefined;
    }
  }
  // Utilization: the mean request of the pods times the target percent.
  if (spec.type !== "Resource" && spec.type !== "ContainerResource") return undefined;
  const resource = metricName(spec);
  const container = spec.type === "ContainerResource" ? spec.containerResource.container : undefined;
  const percent = targetOf(spec)?.averageUtilization;
  if (resource === undefined || percent === undefined || !(percent > 0)) return undefined;
  let sum = 0;
  let n = 0;
  for (const pod of pods) {
    const r = podRequest(pod, resource, container);
    if (typeof r === "number" && r > 0) {
      sum += r;
      n++;
    }
  }
  return n > 0 ? ((sum / n) * percent) / 100 : undefined;
}

/**
 * The workload's whole demand on the metric now (milli-units), or undefined when too little of it was
 * measured to learn from: fewer than half the ready pods reported. Missing data is never read as zero.
 */
export function observedDemand(
  spec: MetricSpec,
  values: MetricValues | undefined,
  pods: readonly PodInfo[],
): number | undefined {
  if (!values || values.error !== undefined) return undefined;
  if (spec.type === "External") {
    const v = values.externalValues;
    if (!v || v.length === 0 || !v.every(Number.isFinite)) return undefined;
    return v.reduce((s, x) => s + x, 0);
  }
  if (spec.type === "Object") return Number.isFinite(values.objectValue) ? values.objectValue : undefined;
  const samples = values.podSamples;
  if (!samples) return undefined;
  const container = spec.type === "ContainerResource" ? spec.containerResource.container : undefined;
  let total = 0;
  let reported = 0;
  let ready = 0;
  for (const pod of pods) {
    if (pod.deleting || pod.phase !== "Running") continue;
    if (pod.ready === true) ready++;
    const s = samples.get(pod.name);
    const v = s && (container === undefined ? s.value : s.containers?.[container]);
    if (v === undefined || !Number.isFinite(v) || v < 0) continue;
    total += v;
    if (pod.ready === true) reported++;
  }
  return ready > 0 && reported * 2 >= ready ? total : undefined;
}

/** Whether a policy asks for a forecast floor (`predictive` set and not switched off). */
export function wantsForecast(policy: ScalingPolicySpec): boolean {
  return policy.predictive !== undefined && policy.predictive.enabled !== false;
}

/** Where the forecast floor stands, for status and the simulator's report. */
export interface PredictiveStatus {
  state: "Active" | "Learning" | "NoData" | "PoorForecast" | "Disabled" | "Invalid";
  message: string;
  /** Backtest error of the horizon-ahead forecast over the last day, %. */
  mape?: number;
  /** Highest forecast demand over the horizon (the metric's milli-units). */
  forecast?: number;
}

/**
 * One workload's forecast: learns from each decision's input and gives the floor stage. Memory is
 * bounded by the forecaster (one week of seasonal slots and two weeks of buckets for refitting).
 */
export class WorkloadForecast {
  readonly spec: PredictiveSpec;
  private readonly metric: { index: number; spec: MetricSpec } | string;
  readonly forecaster: DemandForecaster;

  constructor(policy: ScalingPolicySpec) {
    this.spec = policy.predictive ?? {};
    this.metric = forecastMetric(policy, this.spec.metric);
    this.forecaster = new DemandForecaster({
      bucketSeconds: this.spec.bucketSeconds ?? PREDICTIVE_DEFAULTS.bucketSeconds,
      horizonSeconds: this.spec.horizonSeconds ?? PREDICTIVE_DEFAULTS.horizonSeconds,
      weekly: this.spec.weekly ?? PREDICTIVE_DEFAULTS.weekly,
    });
  }

  /** Learns the demand in a decision's input (call with the input `decide` was given). */
  observe(input: DecisionInput, now: number): void {
    if (typeof this.metric === "string") return;
    const d = observedDemand(this.metric.spec, input.metrics[this.metric.index], input.pods);
    if (d !== undefined) this.forecaster.observe(d, now);
  }

  /** Adds history (epoch ms ascending, the metric's plain units as Prometheus returns them). */
  warm(t: readonly number[], v: readonly number[]): void {
    this.forecaster.warm(
      t,
      v.map((x) => x * 1000),
    );
  }

  status(now: number): PredictiveStatus {
    if (this.spec.enabled === false) return { state: "Disabled", message: "predictive.enabled is false" };
    if (typeof this.metric === "string") return { state: "Invalid", message: this.metric };
    return statusOf(this.forecaster.outlook(now), this.spec);
  }

  /** The floor as a pipeline stage, evaluated at `now`. */
  stage(now: number): RecommendationStage {
    const status = this.status(now);
    const metric = this.metric;
    const horizon = Math.round((this.spec.horizonSeconds ?? PREDICTIVE_DEFAULTS.horizonSeconds) / 60);
    return {
      name: "predictive",
      apply(replicas, input) {
        if (status.state !== "Active" || typeof metric === "string" || status.forecast === undefined)
          return { replicas, reason: status.message };
        const perPod = perPodTarget(metric.spec, input.pods);
        if (perPod === undefined) return { replicas, reason: "no per-pod target to divide the forecast by" };
        const floor = Math.ceil(status.forecast / perPod - 1e-9);
        if (floor <= replicas) return { replicas, reason: status.message };
        const resource = metric.spec.type === "Resource" ? metric.spec.resource.name : undefined;
        return {
          replicas: floor,
          reason: `forecast ${formatAmount(status.forecast, resource)} of ${metricLabel(metric.spec)} within ${horizon} min at ${formatAmount(perPod, resource)}/pod needs ${floor} (backtest MAPE ${(status.mape ?? 0).toFixed(1)} %)`,
        };
      },
    };
  }
}

function statusOf(o: ForecastOutlook, spec: PredictiveSpec): PredictiveStatus {
  const maxError = spec.maxErrorPercent ?? PREDICTIVE_DEFAULTS.maxErrorPercent;
  const base: PredictiveStatus = { state: "Learning", message: "" };
  if (o.mape !== undefined) base.mape = o.mape;
  if (o.peak !== undefined) base.forecast = o.peak;
  if (o.unavailable !== undefined)
    return {
      ...base,
      state: o.unavailable.startsWith("learning") ? "Learning" : "NoData",
      message: o.unavailable,
    };
  if (o.backtested < MIN_BACKTESTED || o.mape === undefined)
    return {
      ...base,
      state: "Learning",
      message: `backtesting: ${o.backtested} of ${MIN_BACKTESTED} buckets scored`,
    };
  if (o.mape > maxError)
    return {
      ...base,
      state: "PoorForecast",
      message: `forecast off: backtest MAPE ${o.mape.toFixed(1)} % is above ${maxError} %`,
    };
  return { ...base, state: "Active", message: `forecast on: backtest MAPE ${o.mape.toFixed(1)} %` };
}
