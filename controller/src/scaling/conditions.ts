/**
 * The autoscaler's status conditions with upstream's types and reasons (H `setCondition`). A condition
 * keeps the position where its type was first set, so the order is AbleToScale, ScalingActive,
 * ScalingLimited as the reconcile loop sets them.
 */
import type { Condition, ConditionType } from "./types.js";

export type AbleToScaleReason =
  | "SucceededGetScale"
  | "FailedGetScale"
  | "SucceededRescale"
  | "FailedUpdateScale"
  | "ReadyForNewScale"
  | "ScaleDownStabilized"
  | "ScaleUpStabilized";

export type ScalingActiveReason =
  | "ValidMetricFound"
  | "ScalingDisabled"
  | "InvalidSelector"
  | "AmbiguousSelector"
  | "FailedGetResourceMetric"
  | "FailedGetContainerResourceMetric"
  | "FailedGetPodsMetric"
  | "FailedGetObjectMetric"
  | "FailedGetExternalMetric"
  | "FailedGetSignalMetric"
  | "InvalidMetricSourceType";

export type ScalingLimitedReason =
  | "DesiredWithinRange"
  | "TooManyReplicas"
  | "TooFewReplicas"
  | "ScaleUpLimit"
  | "ScaleDownLimit";

/** Sets (or replaces, in place) the condition of `type`. */
export function setCondition(
  conditions: Condition[],
  type: ConditionType,
  status: boolean,
  reason: string,
  message: string,
): void {
  const c: Condition = { type, status: status ? "True" : "False", reason, message };
  for (let i = 0; i < conditions.length; i++) {
    if ((conditions[i] as Condition).type === type) {
      conditions[i] = c;
      return;
    }
  }
  conditions.push(c);
}

export function findCondition(conditions: readonly Condition[], type: ConditionType): Condition | undefined {
  for (const c of conditions) if (c.type === type) return c;
  return undefined;
}
