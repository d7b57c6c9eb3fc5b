/**
 * Burst headroom: a floor sized by how much the demand moves from second to second. A fixed target
 * keeps the same share of spare capacity for a calm workload and for a bursty one, so it over-provisions
 * the first or lets the second's bursts through. This floor asks for enough replicas that the recent
 * mean demand plus `sigmas` standard deviations fits in `capacityPerPod` each, so the spare capacity
 * follows the measured variability: new pods take tens of seconds to become ready, and until then the
 * ones running must absorb whatever the next seconds bring. It only raises the count; with too few
 * recent samples it does nothing.
 */
import { formatAmount, metricLabel } from "./decision-text.js";
import { mappingFields } from "./field-check.js";
import { forecastMetric, metricFieldProblems, observedDemand, perPodTarget } from "./predictive.js";
import { parseQuantity } from "./quantity.js";
import type {
  BurstHeadroomSpec,
  DecisionInput,
  MetricSpec,
  RecommendationStage,
  ScalingPolicySpec,
} from "./types.js";
import { quantityProblems } from "./validate.js";

export type { BurstHeadroomSpec } from "./types.js";

export const BURST_HEADROOM_DEFAULTS = Object.freeze({ sigmas: 4, windowSeconds: 120 });

/** Samples needed in the window before the spread is trusted. */
const MIN_SAMPLES = 10;
/** At most this many samples are kept (one per decision; decisions come at most once a second). */
const MAX_SAMPLES = 3600;
const RECOUNT_EVERY = 4096;

const KNOWN = ["metric", "capacityPerPod", "sigmas", "windowSeconds"];

/** Checks `burstHeadroom`; each problem names its field. */
export function validateBurstHeadroom(
  raw: unknown,
  policy: ScalingPolicySpec,
  path = "spec.burstHeadroom",
): string[] {
  const problems: string[] = [];
  const p = mappingFields(raw, path, KNOWN, problems);
  if (!p) return problems;
  if (p.sigmas !== undefined && !(typeof p.sigmas === "number" && p.sigmas >= 0 && p.sigmas <= 10))
    problems.push(`${path}.sigmas: must be a number from 0 to 10`);
  const w = p.windowSeconds;
  if (w !== undefined && !(Number.isInteger(w) && (w as number) >= 10 && (w as number) <= MAX_SAMPLES))
    problems.push(`${path}.windowSeconds: must be an integer from 10 to ${MAX_SAMPLES}`);
  if (p.capacityPerPod !== undefined)
    problems.push(...quantityProblems(p.capacityPerPod, `${path}.capacityPerPod`));
  problems.push(...metricFieldProblems(p.metric, policy, `${path}.metric`));
  return problems;
}

/** Whether a policy asks for burst headroom. */
export function wantsBurstHeadroom(policy: ScalingPolicySpec): boolean {
  return policy.burstHeadroom !== undefined;
}

/**
 * One workload's recent demand and the floor it implies. Memory is bounded: at most one sample per
 * decision over the window, and never more than `MAX_SAMPLES`.
 */
export class BurstHeadroom {
  readonly spec: BurstHeadroomSpec;
  private readonly metric: { index: number; spec: MetricSpec } | string;
  private readonly capacity: number | undefined;
  private readonly windowMs: number;
  private readonly sigmas: number;
  // A ring of (time, demand); `head` is the oldest kept sample.
  private readonly at = new Float64Array(MAX_SAMPLES);
  private readonly demand = new Float64Array(MAX_SAMPLES);
  private head = 0;
  private size = 0;
  // Running sums of (demand − shift) and its square, so a decision costs O(1) however long the window;
  // the shift (a sample in the window) keeps the squares small, and an exact recount every
  // RECOUNT_EVERY updates stops rounding from drifting.
  private shift = 0;
  private sum = 0;
  private sumSq = 0;
  private updates = 0;

  constructor(policy: ScalingPolicySpec) {
    this.spec = policy.burstHeadroom ?? {};
    this.metric = forecastMetric(policy, this.spec.metric);
    this.sigmas = this.spec.sigmas ?? BURST_HEADROOM_DEFAULTS.sigmas;
    this.windowMs = (this.spec.windowSeconds ?? BURST_HEADROOM_DEFAULTS.windowSeconds) * 1000;
    if (this.spec.capacityPerPod !== undefined) this.capacity = parseQuantity(this.spec.capacityPerPod);
  }

  /** Learns the demand in a decision's input (call with the input `decide` was given). */
  observe(input: DecisionInput, now: number): void {
    if (typeof this.metric === "string") return;
    const d = observedDemand(this.metric.spec, input.metrics[this.metric.index], input.pods);
    if (d === undefined) return;
    // Out-of-order samples would break the ring's time order; they are dropped.
    if (this.size > 0 && now <= (this.at[(this.head + this.size - 1) % MAX_SAMPLES] as number)) return;
    if (this.size === MAX_SAMPLES) this.dropOldest();
    if (this.size === 0) this.shift = d;
    const i = (this.head + this.size) % MAX_SAMPLES;
    this.at[i] = now;
    this.demand[i] = d;
    this.size++;
    this.sum += d - this.shift;
    this.sumSq += (d - this.shift) ** 2;
    if (++this.updates % RECOUNT_EVERY === 0) this.recount();
  }

  private dropOldest(): void {
    const d = (this.demand[this.head] as number) - this.shift;
    this.sum -= d;
    this.sumSq -= d * d;
    this.head = (this.head + 1) % MAX_SAMPLES;
    if (--this.size === 0) this.sum = this.sumSq = 0;
  }

  private recount(): void {
    this.shift = this.size > 0 ? (this.demand[this.head] as number) : 0;
    this.sum = this.sumSq = 0;
    for (let k = 0; k < this.size; k++) {
      const d = (this.demand[(this.head + k) % MAX_SAMPLES] as number) - this.shift;
      this.sum += d;
      this.sumSq += d * d;
    }
  }

  /** Mean and standard deviation of the demand over the window ending at `now`. */
  spread(now: number): { mean: number; sd: number; samples: number } | undefined {
    while (this.size > 0 && (this.at[this.head] as number) < now - this.windowMs) this.dropOldest();
    const n = this.size;
    if (n < MIN_SAMPLES) return undefined;
    const offset = this.sum / n;
    const variance = Math.max(0, (this.sumSq - n * offset * offset) / (n - 1));
    return { mean: this.shift + offset, sd: Math.sqrt(variance), samples: n };
  }

  /** The floor as a pipeline stage, evaluated at `now`. */
  stage(now: number): RecommendationStage {
    const metric = this.metric;
    const spread = typeof metric === "string" ? undefined : this.spread(now);
    const sigmas = this.sigmas;
    const capacity = this.capacity;
    const window = Math.round(this.windowMs / 1000);
    return {
      name: "burstHeadroom",
      apply(replicas, input) {
        if (typeof metric === "string") return { replicas, reason: metric };
        if (!spread) return { replicas, reason: `fewer than ${MIN_SAMPLES} samples in the last ${window} s` };
        const perPod = capacity ?? perPodTarget(metric.spec, input.pods);
        if (perPod === undefined) return { replicas, reason: "no per-pod capacity to divide the demand by" };
        const peak = spread.mean + sigmas * spread.sd;
        const floor = Math.ceil(peak / perPod - 1e-9);
        const resource = metric.spec.type === "Resource" ? metric.spec.resource.name : undefined;
        return {
          replicas: Math.max(replicas, floor),
          reason: `${metricLabel(metric.spec)} ${formatAmount(spread.mean, resource)} ± ${formatAmount(spread.sd, resource)} over ${window} s: ${sigmas} σ above the mean needs ${floor} at ${formatAmount(perPod, resource)}/pod`,
        };
      },
    };
  }
}
