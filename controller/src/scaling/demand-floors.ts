/**
 * The floors a workload's policy learns from its own demand: the forecast (`predictive`) and the burst
 * headroom (`burstHeadroom`). Every mode keeps one per workload, puts its stages first in the pipeline
 * and feeds it each decision's input afterwards.
 */
import { BurstHeadroom, wantsBurstHeadroom } from "./burst-headroom.js";
import { WorkloadForecast, wantsForecast } from "./predictive.js";
import type { DecisionInput, RecommendationStage, ScalingPolicySpec } from "./types.js";

export class DemandFloors {
  /** Replaceable: a forecast warmed from Prometheus takes over from the one learning live. */
  forecast: WorkloadForecast | undefined;
  readonly headroom: BurstHeadroom | undefined;

  constructor(policy: ScalingPolicySpec) {
    if (wantsForecast(policy)) this.forecast = new WorkloadForecast(policy);
    if (wantsBurstHeadroom(policy)) this.headroom = new BurstHeadroom(policy);
  }

  /** The floor stages evaluated at `now`, forecast first. */
  stages(now: number): RecommendationStage[] {
    const out: RecommendationStage[] = [];
    if (this.forecast) out.push(this.forecast.stage(now));
    if (this.headroom) out.push(this.headroom.stage(now));
    return out;
  }

  /** Learns from the input a decision was made on. */
  observe(input: DecisionInput, now: number): void {
    this.forecast?.observe(input, now);
    this.headroom?.observe(input, now);
  }
}

/** What the learned state depends on: when it changes, what was learned no longer applies. */
export function learnedFrom(policy: ScalingPolicySpec): string {
  return JSON.stringify([policy.predictive, policy.burstHeadroom, policy.metrics]);
}
