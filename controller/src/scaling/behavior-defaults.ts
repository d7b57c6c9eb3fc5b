/**
 * `behavior` defaulting (pkg/apis/autoscaling/v2/defaults.go `SetDefaults_HorizontalPodAutoscalerBehavior`,
 * `GenerateHPAScale{Up,Down}Rules`): applied only when behavior is set; each unset field of each
 * direction is filled on its own. The scale-down window stays unset at the API level and is filled by
 * the controller from its downscale-stabilization flag (H `maybeInitScaleDownStabilizationWindow`).
 */
import { parseQuantity } from "./quantity.js";
import type {
  ControllerConfig,
  HorizontalPodAutoscalerBehavior,
  HPAScalingPolicy,
  HPAScalingRules,
  ScalingPolicySelect,
} from "./types.js";

/** Rules after API defaulting: everything set except possibly the scale-down window and the tolerance. */
export interface DefaultedScalingRules {
  stabilizationWindowSeconds: number | undefined;
  selectPolicy: ScalingPolicySelect;
  policies: readonly HPAScalingPolicy[];
  tolerance: HPAScalingRules["tolerance"];
}

/** Rules as the controller uses them: window in seconds, tolerance as a fraction. */
export interface ResolvedScalingRules {
  stabilizationWindowSeconds: number;
  selectPolicy: ScalingPolicySelect;
  policies: readonly HPAScalingPolicy[];
  tolerance: number;
}

export interface ResolvedBehavior {
  scaleUp: ResolvedScalingRules;
  scaleDown: ResolvedScalingRules;
}

const freeze = <T>(x: T): T => Object.freeze(x);

/** Up: no window; the larger of +4 pods or +100% every 15 s. */
export const DEFAULT_SCALE_UP_RULES: Readonly<DefaultedScalingRules> = freeze({
  stabilizationWindowSeconds: 0,
  selectPolicy: "Max",
  policies: freeze([
    freeze({ type: "Pods", value: 4, periodSeconds: 15 }),
    freeze({ type: "Percent", value: 100, periodSeconds: 15 }),
  ] as HPAScalingPolicy[]),
  tolerance: undefined,
});

/** Down: window from the controller flag; up to 100% every 15 s. */
export const DEFAULT_SCALE_DOWN_RULES: Readonly<DefaultedScalingRules> = freeze({
  stabilizationWindowSeconds: undefined,
  selectPolicy: "Max",
  policies: freeze([freeze({ type: "Percent", value: 100, periodSeconds: 15 })] as HPAScalingPolicy[]),
  tolerance: undefined,
});

/** copyHPAScalingRules: a set field wins over the default, field by field (an empty list counts as set). */
export function defaultScalingRules(
  rules: HPAScalingRules | null | undefined,
  defaults: Readonly<DefaultedScalingRules>,
): DefaultedScalingRules {
  if (!rules) return { ...defaults };
  return {
    stabilizationWindowSeconds: rules.stabilizationWindowSeconds ?? defaults.stabilizationWindowSeconds,
    selectPolicy: rules.selectPolicy ?? defaults.selectPolicy,
    policies: rules.policies ?? defaults.policies,
    tolerance: rules.tolerance ?? defaults.tolerance,
  };
}

/** The behavior as the API server stores it after defaulting. */
export function applyBehaviorDefaults(behavior: HorizontalPodAutoscalerBehavior): {
  scaleUp: DefaultedScalingRules;
  scaleDown: DefaultedScalingRules;
} {
  return {
    scaleUp: defaultScalingRules(behavior.scaleUp, DEFAULT_SCALE_UP_RULES),
    scaleDown: defaultScalingRules(behavior.scaleDown, DEFAULT_SCALE_DOWN_RULES),
  };
}

function resolve(
  rules: HPAScalingRules | null | undefined,
  defaults: Readonly<DefaultedScalingRules>,
  windowFallbackSeconds: number,
  toleranceFallback: number,
): ResolvedScalingRules {
  const window =
    rules?.stabilizationWindowSeconds ?? defaults.stabilizationWindowSeconds ?? windowFallbackSeconds;
  const tolerance = rules?.tolerance ?? defaults.tolerance;
  return {
    stabilizationWindowSeconds: window,
    selectPolicy: rules?.selectPolicy ?? defaults.selectPolicy,
    policies: rules?.policies ?? defaults.policies,
    // A per-direction tolerance overrides the flag (HPAConfigurableTolerance).
    tolerance:
      tolerance === undefined || tolerance === null ? toleranceFallback : parseQuantity(tolerance) / 1000,
  };
}

/** Defaults plus the controller's own fill-ins; throws a QuantityError on an unreadable tolerance. */
export function resolveBehavior(
  behavior: HorizontalPodAutoscalerBehavior,
  config: ControllerConfig,
): ResolvedBehavior {
  return {
    scaleUp: resolve(behavior.scaleUp, DEFAULT_SCALE_UP_RULES, 0, config.tolerance),
    scaleDown: resolve(
      behavior.scaleDown,
      DEFAULT_SCALE_DOWN_RULES,
      Math.trunc(config.downscaleStabilizationMs / 1000),
      config.tolerance,
    ),
  };
}
