import { validateBurstHeadroom } from "./burst-headroom.js";
import { validatePredictive } from "./predictive.js";
import { validateRules } from "./rules.js";
import { validateSchedules } from "./schedule.js";
import type { ScalingPolicySpec } from "./types.js";
import { type ValidateOptions, validatePolicySpec } from "./validate.js";

/**
 * Every check of a policy spec, wherever it comes from (ScalingPolicy object, ballast.yaml, a simulator
 * policies file): the autoscaling/v2 part, scenarios, rules, predictive and burst headroom. Each problem names its field
 * under `path` ("spec.rules.maxStepUp.percent: …").
 */
export function validateScalingPolicy(spec: unknown, path = "spec", options: ValidateOptions = {}): string[] {
  const s =
    typeof spec === "object" && spec !== null && !Array.isArray(spec)
      ? (spec as ScalingPolicySpec)
      : undefined;
  return [
    ...validatePolicySpec(spec, path, options),
    ...validateSchedules(s?.schedules, `${path}.schedules`),
    ...validateRules(s?.rules, `${path}.rules`),
    ...(s ? validatePredictive(s.predictive, s, `${path}.predictive`) : []),
    ...(s ? validateBurstHeadroom(s.burstHeadroom, s, `${path}.burstHeadroom`) : []),
  ];
}
