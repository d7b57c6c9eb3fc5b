/**
 * How far one decision may move, and the min/max bounds (H `convertDesiredReplicasWithRules` without
 * behavior; `convertDesiredReplicasWithBehaviorRate`, `calculateScaleUpLimitWithScalingRules` and
 * `calculateScaleDownLimitWithBehaviors` with it).
 */
import type { ResolvedScalingRules } from "./behavior-defaults.js";
import { replicasChangeInPeriod } from "./scale-events.js";
import type { HPAScalingPolicy, ScaleEvent } from "./types.js";

const INT32_MAX = 2147483647;
const INT32_MIN = -2147483648;

export type LimitReason =
  | "DesiredWithinRange"
  | "ScaleUpLimit"
  | "TooManyReplicas"
  | "TooFewReplicas"
  | "ScaleDownLimit";

export interface LimitResult {
  replicas: number;
  reason: LimitReason;
  message: string;
  /** The rate bound in the direction of travel (undefined when not moving or within range). */
  rateLimit?: number;
  /** The policy that set that bound; "Disabled" when selectPolicy disables the direction. */
  policy?: HPAScalingPolicy | "Disabled";
}

const within = (replicas: number): LimitResult => ({
  replicas,
  reason: "DesiredWithinRange",
  message: "the desired count is within the acceptable range",
});
const TOO_MANY = "the desired replica count is more than the maximum replica count";
const TOO_FEW = "the desired replica count is less than the minimum replica count";
const UP_RATE = "the desired replica count is increasing faster than the maximum scale rate";
const DOWN_RATE = "the desired replica count is decreasing faster than the maximum scale rate";

/** Without behavior: never more than max(factor × current, minimum) at once, and within [min, max]. */
export function limitWithoutBehavior(
  current: number,
  desired: number,
  min: number,
  max: number,
  factor: number,
  minimum: number,
): LimitResult {
  const upLimit = Math.trunc(Math.max(factor * current, minimum));
  const capped = max > upLimit;
  const upper = capped ? upLimit : max;
  if (desired < min) return { replicas: min, reason: "TooFewReplicas", message: TOO_FEW };
  if (desired > upper) {
    return capped
      ? { replicas: upper, reason: "ScaleUpLimit", message: UP_RATE, rateLimit: upLimit }
      : { replicas: upper, reason: "TooManyReplicas", message: TOO_MANY };
  }
  return within(desired);
}

export interface PolicyLimit {
  limit: number;
  /** The policy whose proposal was selected; undefined when the direction is disabled or has no policy. */
  policy: HPAScalingPolicy | undefined;
}

/** Replicas at the start of the policy's period: undo what was added, redo what was removed since. */
function periodStart(
  current: number,
  policy: HPAScalingPolicy,
  upEvents: readonly ScaleEvent[],
  downEvents: readonly ScaleEvent[],
  now: number,
): number {
  return (
    current -
    replicasChangeInPeriod(upEvents, policy.periodSeconds, now) +
    replicasChangeInPeriod(downEvents, policy.periodSeconds, now)
  );
}

/** The most replicas the scale-up policies allow now. selectPolicy Max takes the largest proposal. */
export function scaleUpLimit(
  current: number,
  upEvents: readonly ScaleEvent[],
  downEvents: readonly ScaleEvent[],
  rules: Pick<ResolvedScalingRules, "selectPolicy" | "policies">,
  now: number,
): PolicyLimit {
  if (rules.selectPolicy === "Disabled") return { limit: current, policy: undefined };
  const pickMin = rules.selectPolicy === "Min";
  let limit = pickMin ? INT32_MAX : INT32_MIN;
  let chosen: HPAScalingPolicy | undefined;
  for (const policy of rules.policies) {
    const start = periodStart(current, policy, upEvents, downEvents, now);
    // Percent rounds up so that a small workload can always grow by at least one.
    const proposed =
      policy.type === "Pods" ? start + policy.value : Math.ceil(start * (1 + policy.value / 100));
    if (pickMin ? proposed < limit : proposed > limit) {
      limit = proposed;
      chosen = policy;
    }
  }
  return { limit, policy: chosen };
}

/** The fewest replicas the scale-down policies allow now. selectPolicy Max takes the smallest proposal. */
export function scaleDownLimit(
  current: number,
  upEvents: readonly ScaleEvent[],
  downEvents: readonly ScaleEvent[],
  rules: Pick<ResolvedScalingRules, "selectPolicy" | "policies">,
  now: number,
): PolicyLimit {
  if (rules.selectPolicy === "Disabled") return { limit: current, policy: undefined };
  const pickMin = rules.selectPolicy === "Min";
  let limit = pickMin ? INT32_MIN : INT32_MAX;
  let chosen: HPAScalingPolicy | undefined;
  for (const policy of rules.policies) {
    const start = periodStart(current, policy, upEvents, downEvents, now);
    // Percent truncates toward zero, so it may go negative; min/max bring it back.
    const proposed =
      policy.type === "Pods" ? start - policy.value : Math.trunc(start * (1 - policy.value / 100));
    if (pickMin ? proposed > limit : proposed < limit) {
      limit = proposed;
      chosen = policy;
    }
  }
  return { limit, policy: chosen };
}

export interface BehaviorLimitArgs {
  current: number;
  desired: number;
  min: number;
  max: number;
  scaleUp: Pick<ResolvedScalingRules, "selectPolicy" | "policies">;
  scaleDown: Pick<ResolvedScalingRules, "selectPolicy" | "policies">;
  scaleUpEvents: readonly ScaleEvent[];
  scaleDownEvents: readonly ScaleEvent[];
  now: number;
}

/**
 * With behavior: the rate policies of the direction of travel, then min/max. A past burst can push the
 * policy limit behind the current size; it is then held at the current size, never reversed.
 */
export function limitWithBehavior(a: BehaviorLimitArgs): LimitResult {
  if (a.desired > a.current) {
    const { limit: raw, policy } = scaleUpLimit(
      a.current,
      a.scaleUpEvents,
      a.scaleDownEvents,
      a.scaleUp,
      a.now,
    );
    const limit = Math.max(raw, a.current);
    const byRate = a.max > limit;
    const upper = byRate ? limit : a.max;
    if (a.desired > upper) {
      return byRate
        ? {
            replicas: upper,
            reason: "ScaleUpLimit",
            message: UP_RATE,
            rateLimit: limit,
            policy: a.scaleUp.selectPolicy === "Disabled" ? "Disabled" : policy,
          }
        : { replicas: upper, reason: "TooManyReplicas", message: TOO_MANY };
    }
  } else if (a.desired < a.current) {
    const { limit: raw, policy } = scaleDownLimit(
      a.current,
      a.scaleUpEvents,
      a.scaleDownEvents,
      a.scaleDown,
      a.now,
    );
    const limit = Math.min(raw, a.current);
    const byRate = a.min < limit;
    const lower = byRate ? limit : a.min;
    if (a.desired < lower) {
      return byRate
        ? {
            replicas: lower,
            reason: "ScaleDownLimit",
            message: DOWN_RATE,
            rateLimit: limit,
            policy: a.scaleDown.selectPolicy === "Disabled" ? "Disabled" : policy,
          }
        : { replicas: lower, reason: "TooFewReplicas", message: TOO_FEW };
    }
  }
  return within(a.desired);
}
