/**
 * One metric's replica proposal (H `computeReplicasForMetric` and the per-type `computeStatusFor…Metric`):
 * picks the calculator for the metric type and target, parses the target, and turns a failure into the
 * condition reason upstream reports for that type.
 */
import {
  averageValueTargetReplicas,
  type ValueResult,
  valueTargetReplicas,
} from "./object-metric-replicas.js";
import type { ReadinessTiming } from "./pod-grouping.js";
import {
  type CalcError,
  type PlainResult,
  type PodCounts,
  plainMetricReplicas,
  type UtilizationResult,
  utilizationReplicas,
} from "./pod-metric-replicas.js";
import { parseQuantity, type Quantity } from "./quantity.js";
import type { Tolerances } from "./tolerance.js";
import type { MetricSpec, MetricTarget, MetricValues, PodInfo } from "./types.js";

/** How the proposal was computed, which decides how it reads. */
export type ProposalKind = "utilization" | "perPod" | "value" | "averageValue";

export interface MetricResult {
  /** Absent when the metric failed. */
  replicas?: number;
  error?: string;
  /** Condition reason for a failure (FailedGetResourceMetric, InvalidMetricSourceType, …). */
  reason?: string;
  kind?: ProposalKind;
  /** The target as compared: a percent for utilization, milli-units otherwise. */
  target?: number;
  utilization?: number;
  rawValue?: number;
  usage?: number;
  ratio?: number;
  pods?: PodCounts;
}

export interface MetricContext {
  /** scale.spec.replicas: what most metrics scale from. */
  specReplicas: number;
  /** scale.status.replicas: what Object/External AverageValue targets divide by. */
  statusReplicas: number;
  pods: readonly PodInfo[];
  now: number;
  timing: ReadinessTiming;
  tolerances: Tolerances;
}

/** The condition reason upstream uses when a metric of this type cannot be computed. */
export function failureReason(type: unknown): string {
  switch (type) {
    case "Resource":
      return "FailedGetResourceMetric";
    case "ContainerResource":
      return "FailedGetContainerResourceMetric";
    case "Pods":
      return "FailedGetPodsMetric";
    case "Object":
      return "FailedGetObjectMetric";
    case "External":
      return "FailedGetExternalMetric";
    case "Signal":
      return "FailedGetSignalMetric";
    default:
      return "InvalidMetricSourceType";
  }
}

function fail(reason: string, error: string): MetricResult {
  return { error, reason };
}

/** A target quantity in milli-units, or an error message naming the field. */
function targetMilli(q: Quantity | undefined, field: string): number | string {
  try {
    const v = parseQuantity(q as Quantity);
    return v > 0 ? v : `target ${field} must be positive, got ${JSON.stringify(q)}`;
  } catch (e) {
    return `target ${field}: ${(e as Error).message}`;
  }
}

function fromPods(
  r: UtilizationResult | PlainResult | CalcError,
  reason: string,
  kind: ProposalKind,
  target: number,
): MetricResult {
  if (r.error !== undefined) return fail(reason, r.error);
  const out: MetricResult = { replicas: r.replicas, kind, target, ratio: r.ratio, pods: r.pods };
  if ("utilization" in r) {
    out.utilization = r.utilization;
    out.rawValue = r.rawValue;
  } else out.usage = r.usage;
  return out;
}

function fromValue(
  r: ValueResult | { error: string },
  reason: string,
  kind: ProposalKind,
  target: number,
): MetricResult {
  if (r.error !== undefined) return fail(reason, r.error);
  return { replicas: r.replicas, kind, target, usage: r.usage, ratio: r.ratio };
}

/** The per-pod samples, or the fetch error as upstream's metrics clients word it. */
function podSamplesOf(values: MetricValues | undefined, emptyMessage: string) {
  if (values === undefined) return "the metric source returned nothing for this metric";
  if (values.error !== undefined) return values.error;
  const samples = values.podSamples;
  if (samples === undefined || samples.size === 0) return emptyMessage;
  return samples;
}

function resourceMetric(
  name: string,
  container: string | undefined,
  target: MetricTarget | undefined,
  values: MetricValues | undefined,
  ctx: MetricContext,
  reason: string,
): MetricResult {
  // The value target is checked first, whatever `type` says (computeStatusForResourceMetricGeneric).
  if (target?.averageValue !== undefined && target.averageValue !== null) {
    const t = targetMilli(target.averageValue, "averageValue");
    if (typeof t === "string") return fail(reason, t);
    const samples = podSamplesOf(values, "no metrics returned from resource metrics API");
    if (typeof samples === "string")
      return fail(reason, `unable to get metrics for resource ${name}: ${samples}`);
    const r = plainMetricReplicas(ctx.specReplicas, t, name, container, ctx.pods, samples, ctx);
    return fromPods(r, reason, "perPod", t);
  }
  const u = target?.averageUtilization;
  if (u === undefined || u === null) {
    return fail(
      reason,
      "invalid resource metric source: neither an average utilization target nor an average value target was set",
    );
  }
  if (!(typeof u === "number" && u > 0))
    return fail(reason, `target averageUtilization must be positive, got ${u}`);
  const samples = podSamplesOf(values, "no metrics returned from resource metrics API");
  if (typeof samples === "string")
    return fail(reason, `unable to get metrics for resource ${name}: ${samples}`);
  const r = utilizationReplicas(ctx.specReplicas, u, name, container, ctx.pods, samples, ctx);
  return fromPods(r, reason, "utilization", u);
}

function perPodMetric(
  label: string,
  emptyMessage: string,
  target: MetricTarget | undefined,
  values: MetricValues | undefined,
  ctx: MetricContext,
  reason: string,
): MetricResult {
  if (target?.averageValue === undefined || target.averageValue === null) {
    return fail(reason, `invalid ${label} source: an averageValue target is required`);
  }
  const t = targetMilli(target.averageValue, "averageValue");
  if (typeof t === "string") return fail(reason, t);
  const samples = podSamplesOf(values, emptyMessage);
  if (typeof samples === "string") return fail(reason, `unable to get ${label}: ${samples}`);
  const r = plainMetricReplicas(ctx.specReplicas, t, undefined, undefined, ctx.pods, samples, ctx);
  return fromPods(r, reason, "perPod", t);
}

function objectMetric(
  spec: Extract<MetricSpec, { type: "Object" }>,
  values: MetricValues | undefined,
  ctx: MetricContext,
) {
  const reason = "FailedGetObjectMetric";
  const src = spec.object;
  const target = src?.target;
  const d = src?.describedObject;
  const where = `${src?.metric?.name} of ${d?.kind}/${d?.name}`;
  const value = objectValueOf(values);
  if (target?.type === "Value" && target.value !== undefined && target.value !== null) {
    const t = targetMilli(target.value, "value");
    if (typeof t === "string") return fail(reason, t);
    if (typeof value === "string") return fail(reason, `unable to get metric ${where}: ${value}`);
    return fromValue(
      valueTargetReplicas(ctx.specReplicas, value, t, ctx.pods, ctx.tolerances),
      reason,
      "value",
      t,
    );
  }
  if (target?.type === "AverageValue" && target.averageValue !== undefined && target.averageValue !== null) {
    const t = targetMilli(target.averageValue, "averageValue");
    if (typeof t === "string") return fail(reason, t);
    if (typeof value === "string") return fail(reason, `unable to get metric ${where}: ${value}`);
    return fromValue(
      averageValueTargetReplicas(ctx.statusReplicas, value, t, ctx.tolerances),
      reason,
      "averageValue",
      t,
    );
  }
  return fail(
    reason,
    "invalid object metric source: neither a value target nor an average value target was set",
  );
}

function objectValueOf(values: MetricValues | undefined): number | string {
  if (values === undefined) return "the metric source returned nothing for this metric";
  if (values.error !== undefined) return values.error;
  const v = values.objectValue;
  if (v === undefined || v === null) return "no value returned";
  return Number.isFinite(v) ? v : `the value is not a finite number (${v})`;
}

function sumOf(values: MetricValues | undefined): number | string {
  if (values === undefined) return "the metric source returned nothing for this metric";
  if (values.error !== undefined) return values.error;
  const list = values.externalValues;
  if (!list || list.length === 0) return "no metrics returned from external metrics API";
  let sum = 0;
  for (let i = 0; i < list.length; i++) sum += list[i] as number;
  return Number.isFinite(sum) ? sum : "a returned value is not a finite number";
}

function externalMetric(
  spec: Extract<MetricSpec, { type: "External" }>,
  values: MetricValues | undefined,
  ctx: MetricContext,
): MetricResult {
  const reason = "FailedGetExternalMetric";
  const target = spec.external?.target;
  const name = spec.external?.metric?.name;
  // A per-pod target wins when both are set (computeStatusForExternalMetric).
  if (target?.averageValue !== undefined && target.averageValue !== null) {
    const t = targetMilli(target.averageValue, "averageValue");
    if (typeof t === "string") return fail(reason, t);
    const sum = sumOf(values);
    if (typeof sum === "string") return fail(reason, `unable to get external metric ${name}: ${sum}`);
    return fromValue(
      averageValueTargetReplicas(ctx.statusReplicas, sum, t, ctx.tolerances),
      reason,
      "averageValue",
      t,
    );
  }
  if (target?.value !== undefined && target.value !== null) {
    const t = targetMilli(target.value, "value");
    if (typeof t === "string") return fail(reason, t);
    const sum = sumOf(values);
    if (typeof sum === "string") return fail(reason, `unable to get external metric ${name}: ${sum}`);
    return fromValue(
      valueTargetReplicas(ctx.specReplicas, sum, t, ctx.pods, ctx.tolerances),
      reason,
      "value",
      t,
    );
  }
  return fail(
    reason,
    "invalid external metric source: neither a value target nor an average value target was set",
  );
}

/** The proposal of one metric. Never throws, whatever the spec holds: bad specs become failed metrics. */
export function computeReplicasForMetric(
  spec: MetricSpec,
  values: MetricValues | undefined,
  ctx: MetricContext,
): MetricResult {
  const type = (spec as { type?: unknown } | undefined)?.type;
  switch (type) {
    case "Resource": {
      const src = spec.type === "Resource" ? spec.resource : undefined;
      if (!src || typeof src.name !== "string")
        return fail(failureReason(type), "resource metric without a resource name");
      return resourceMetric(src.name, undefined, src.target, values, ctx, failureReason(type));
    }
    case "ContainerResource": {
      const src = spec.type === "ContainerResource" ? spec.containerResource : undefined;
      if (!src || typeof src.name !== "string" || typeof src.container !== "string") {
        return fail(failureReason(type), "container resource metric without a resource or container name");
      }
      return resourceMetric(src.name, src.container, src.target, values, ctx, failureReason(type));
    }
    case "Pods": {
      const src = spec.type === "Pods" ? spec.pods : undefined;
      const name = src?.metric?.name;
      return perPodMetric(
        `metric ${name}`,
        "no metrics returned from custom metrics API",
        src?.target,
        values,
        ctx,
        failureReason(type),
      );
    }
    case "Signal": {
      const src = spec.type === "Signal" ? spec.signal : undefined;
      return perPodMetric(
        `signal ${src?.name}`,
        "no pod has reported it",
        src?.target,
        values,
        ctx,
        failureReason(type),
      );
    }
    case "Object":
      return objectMetric(spec as Extract<MetricSpec, { type: "Object" }>, values, ctx);
    case "External":
      return externalMetric(spec as Extract<MetricSpec, { type: "External" }>, values, ctx);
    default:
      return fail("InvalidMetricSourceType", `unknown metric source type ${JSON.stringify(type)}`);
  }
}
