/**
 * Several metrics (H `computeReplicasForMetrics`): every metric proposes, the largest proposal wins, and
 * a failing metric may block a scale-down but never an increase.
 */
import { computeReplicasForMetric, type MetricContext, type MetricResult } from "./replica-calculator.js";
import type { MetricSpec, MetricValues, ScalingPolicySpec } from "./types.js";

/** What the API defaults an HPA without metrics to: cpu at 80% of requests. */
export const DEFAULT_METRICS: readonly MetricSpec[] = Object.freeze([
  { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } },
] as MetricSpec[]);

/** The metrics a policy is evaluated on; sources must return values in this order. */
export function effectiveMetrics(policy: ScalingPolicySpec): readonly MetricSpec[] {
  return policy.metrics && policy.metrics.length > 0 ? policy.metrics : DEFAULT_METRICS;
}

export interface MetricsOutcome {
  /** The largest valid proposal; meaningless when `blocked`. */
  replicas: number;
  /** Index of the metric that proposed it, -1 when none did. */
  winner: number;
  results: MetricResult[];
  invalid: number;
  /** Index of the first failed metric (its reason becomes the condition), -1 when none failed. */
  firstInvalid: number;
  /** Every metric failed, or one failed and the valid maximum is below the current size: hold. */
  blocked: boolean;
}

export function computeReplicasForMetrics(
  specs: readonly MetricSpec[],
  values: readonly (MetricValues | undefined)[],
  ctx: MetricContext,
): MetricsOutcome {
  const results: MetricResult[] = new Array(specs.length);
  let replicas = 0;
  let winner = -1;
  let invalid = 0;
  let firstInvalid = -1;
  for (let i = 0; i < specs.length; i++) {
    const r = computeReplicasForMetric(specs[i] as MetricSpec, values[i], ctx);
    results[i] = r;
    if (r.replicas === undefined) {
      if (firstInvalid < 0) firstInvalid = i;
      invalid++;
      continue;
    }
    // Upstream also lets a later metric take over from a proposal of 0; only the winner's name changes.
    if (replicas === 0 || r.replicas > replicas) {
      replicas = r.replicas;
      winner = i;
    }
  }
  const blocked = invalid >= specs.length || (invalid > 0 && replicas < ctx.specReplicas);
  return { replicas, winner, results, invalid, firstInvalid, blocked };
}
