/**
 * The words of a decision: metric names, measured values against targets, and one-line reasons a person
 * reads in the terminal, in Events and in the status ("2 → 5: signal inflight 9.6/pod vs 4/pod").
 */
import type { LimitResult } from "./rate-limits.js";
import type { MetricResult } from "./replica-calculator.js";
import type { StabilizationResult } from "./stabilization.js";
import { isWithinTolerance, type Tolerances } from "./tolerance.js";
import type { DecisionStage, MetricProposal, MetricSpec } from "./types.js";

/** Three significant digits, k/M/G above ten thousand: 9.6, 0.75, 412, 12.3k, 1.5M. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1e9) return `${trim((x / 1e9).toFixed(1))}G`;
  if (a >= 1e6) return `${trim((x / 1e6).toFixed(1))}M`;
  if (a >= 1e4) return `${trim((x / 1e3).toFixed(1))}k`;
  if (a >= 100 || Number.isInteger(x)) return String(Math.round(x));
  // Rounding by arithmetic is much cheaper than toPrecision on the decision path.
  if (a >= 10) return String(Math.round(x * 10) / 10);
  if (a >= 1) return String(Math.round(x * 100) / 100);
  return String(Number(x.toPrecision(3)));
}

function trim(s: string): string {
  return s.endsWith(".0") ? s.slice(0, -2) : s;
}

/** A milli-unit amount in the resource's customary unit: cpu "250m" / "1.5", memory "512Mi", else units. */
export function formatAmount(milli: number, resource?: string): string {
  if (resource === "cpu")
    return Math.abs(milli) < 1000 ? `${Math.round(milli)}m` : formatNumber(milli / 1000);
  if (resource === "memory") {
    const bytes = milli / 1000;
    const a = Math.abs(bytes);
    if (a >= 2 ** 30) return `${formatNumber(bytes / 2 ** 30)}Gi`;
    if (a >= 2 ** 20) return `${formatNumber(bytes / 2 ** 20)}Mi`;
    if (a >= 2 ** 10) return `${formatNumber(bytes / 2 ** 10)}Ki`;
    return formatNumber(bytes);
  }
  return formatNumber(milli / 1000);
}

/** "signal inflight", "resource cpu", "container resource cpu of app", "object hits of Ingress/main". */
export function metricLabel(spec: MetricSpec): string {
  switch (spec?.type) {
    case "Resource":
      return `resource ${spec.resource?.name}`;
    case "ContainerResource":
      return `container resource ${spec.containerResource?.name} of ${spec.containerResource?.container}`;
    case "Pods":
      return `pods ${spec.pods?.metric?.name}`;
    case "Object":
      return `object ${spec.object?.metric?.name} of ${spec.object?.describedObject?.kind}/${spec.object?.describedObject?.name}`;
    case "External":
      return `external ${spec.external?.metric?.name}`;
    case "Signal":
      return `signal ${spec.signal?.name}`;
    default:
      return `${JSON.stringify((spec as { type?: unknown } | undefined)?.type)} metric`;
  }
}

function resourceOf(spec: MetricSpec): string | undefined {
  if (spec?.type === "Resource") return spec.resource?.name;
  if (spec?.type === "ContainerResource") return spec.containerResource?.name;
  return undefined;
}

/** The proposal as recorded in the decision. */
export function toProposal(spec: MetricSpec, r: MetricResult): MetricProposal {
  const p: MetricProposal = { metric: metricLabel(spec), type: String((spec as { type?: unknown })?.type) };
  if (r.replicas === undefined) {
    p.error = r.error;
    return p;
  }
  p.replicas = r.replicas;
  p.ratio = r.ratio;
  const resource = resourceOf(spec);
  const target = r.target as number;
  switch (r.kind) {
    case "utilization":
      p.current = `${r.utilization}%`;
      p.target = `${target}%`;
      break;
    case "perPod":
    case "averageValue":
      p.current = `${formatAmount(r.usage as number, resource)}/pod`;
      p.target = `${formatAmount(target, resource)}/pod`;
      break;
    case "value":
      p.current = formatAmount(r.usage as number);
      p.target = formatAmount(target);
      break;
  }
  if (r.pods) p.pods = r.pods;
  return p;
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? "" : "s"}`;
}

/** "signal inflight 9.6/pod vs 4/pod", with a note on pods without data or within tolerance. */
export function proposalReason(p: MetricProposal, tolerances: Tolerances): string {
  if (p.error !== undefined) return `${p.metric} failed: ${p.error}`;
  let s = `${p.metric} ${p.current} vs ${p.target}`;
  const notes: string[] = [];
  const pods = p.pods;
  if (pods && (pods.missing > 0 || pods.unready > 0)) {
    const total = pods.ready + pods.unready + pods.missing;
    if (pods.missing > 0) notes.push(`${pods.missing} of ${plural(total, "pod")} without data`);
    if (pods.unready > 0) notes.push(`${pods.unready} of ${plural(total, "pod")} not ready`);
  }
  if (p.ratio !== undefined && isWithinTolerance(p.ratio, tolerances)) notes.push("within tolerance");
  if (notes.length > 0) s += ` (${notes.join(", ")})`;
  return s;
}

export function ageSeconds(at: number, now: number): number {
  return Math.max(0, Math.round((now - at) / 1000));
}

/** "scale-down stabilized by a recommendation from 212 s ago". */
export function stabilizationReason(r: StabilizationResult, now: number): string {
  const direction = r.reason === "ScaleUpStabilized" ? "scale-up" : "scale-down";
  const by = r.heldBy;
  if (!by) return `${direction} stabilized`;
  const of = by.replicas !== r.replicas ? ` of ${by.replicas}` : "";
  return `${direction} stabilized by a recommendation${of} from ${ageSeconds(by.at, now)} s ago`;
}

/** Why the rate or bounds step changed the number. */
export function limitReason(
  r: LimitResult,
  limits: { min: number; max: number; factor?: number; minimum?: number },
): string {
  switch (r.reason) {
    case "TooManyReplicas":
      return `capped at maxReplicas ${limits.max}`;
    case "TooFewReplicas":
      return `raised to minReplicas ${limits.min}`;
    case "ScaleUpLimit":
    case "ScaleDownLimit": {
      const direction = r.reason === "ScaleUpLimit" ? "scale-up" : "scale-down";
      const policy = r.policy;
      if (policy === "Disabled") return `${direction} disabled by selectPolicy`;
      if (policy) {
        const amount = policy.type === "Percent" ? `${policy.value}%` : plural(policy.value, "pod");
        return `${direction} limited to ${r.replicas} by policy ${amount} per ${policy.periodSeconds} s`;
      }
      if (limits.factor !== undefined) {
        return `${direction} limited to ${r.replicas} (at most ×${limits.factor} or ${limits.minimum} per decision)`;
      }
      return `${direction} limited to ${r.replicas}`;
    }
    default:
      return "within range";
  }
}

/**
 * The one-line summary. A change reads "from → to: why"; no change reads "held at n: why", where why is
 * the last stage that changed the number, or the metrics when nothing did.
 */
export function summarize(
  current: number,
  desired: number,
  stages: readonly DecisionStage[],
  note?: string,
): string {
  const first = stages[0];
  const fromMetrics = first?.stage === "metrics";
  const lastChange = stages.length > (fromMetrics ? 1 : 0) ? stages[stages.length - 1] : undefined;
  let why: string;
  if (desired !== current && fromMetrics) {
    why = lastChange ? `${first.reason}; ${lastChange.reason}` : first.reason;
  } else {
    why = (lastChange ?? first)?.reason ?? "";
  }
  if (note) why = why ? `${why}; ${note}` : note;
  return desired !== current ? `${current} → ${desired}: ${why}` : `held at ${current}: ${why}`;
}
