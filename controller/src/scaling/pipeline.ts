/**
 * One decision for one workload (H `reconcileAutoscaler`, minus the I/O): the min/max and disabled
 * shortcuts, then per-metric proposals → maximum → optional extra stages → normalization (stabilization
 * and rate limits, with or without `behavior`) → the Decision with its reasons and the next state.
 * Pure: the same input, state and `now` give the same result; the input state is never modified.
 */
import { type ResolvedBehavior, resolveBehavior } from "./behavior-defaults.js";
import { setCondition } from "./conditions.js";
import {
  limitReason,
  metricLabel,
  proposalReason,
  stabilizationReason,
  summarize,
  toProposal,
} from "./decision-text.js";
import { computeReplicasForMetrics, effectiveMetrics } from "./metrics.js";
import { type LimitResult, limitWithBehavior, limitWithoutBehavior } from "./rate-limits.js";
import type { MetricContext, MetricResult } from "./replica-calculator.js";
import { longestPeriodSeconds, storeScaleEvent } from "./scale-events.js";
import {
  type StabilizationResult,
  stabilizeWithBehavior,
  stabilizeWithoutBehavior,
} from "./stabilization.js";
import type { Tolerances } from "./tolerance.js";
import {
  type AutoscalerState,
  type Condition,
  type ControllerConfig,
  DEFAULT_CONTROLLER_CONFIG,
  type Decision,
  type DecisionInput,
  type DecisionStage,
  type MetricProposal,
  type MetricSpec,
  type ScaleEvent,
  type TimedRecommendation,
} from "./types.js";

export interface DecideResult {
  decision: Decision;
  state: AutoscalerState;
}

const NO_EVENTS: readonly ScaleEvent[] = Object.freeze([]);

/** The controller settings for this decision: the defaults, overridden by every field that is set. */
export function resolveConfig(partial: Partial<ControllerConfig> | undefined): ControllerConfig {
  if (partial === undefined) return DEFAULT_CONTROLLER_CONFIG;
  const out = { ...DEFAULT_CONTROLLER_CONFIG };
  for (const key of Object.keys(out) as (keyof ControllerConfig)[]) {
    const v = partial[key];
    if (typeof v === "number" && Number.isFinite(v)) out[key] = v;
  }
  return out;
}

/** Why the policy cannot be used at all, or undefined. validatePolicySpec gives the full list. */
function unusablePolicy(min: unknown, max: unknown): string | undefined {
  if (typeof max !== "number" || !Number.isInteger(max) || max < 1)
    return `maxReplicas must be an integer ≥ 1, got ${max}`;
  if (typeof min !== "number" || !Number.isInteger(min) || min < 0)
    return `minReplicas must be an integer ≥ 0, got ${min}`;
  if (min > max) return `minReplicas ${min} is above maxReplicas ${max}`;
  return undefined;
}

const STABILIZED_MESSAGE: Record<StabilizationResult["reason"], string> = {
  ScaleDownStabilized: "a higher recommendation within the scale-down stabilization window holds the size",
  ScaleUpStabilized: "a lower recommendation within the scale-up stabilization window holds the size",
  ReadyForNewScale: "the recommended size matches the stabilized size",
};

function limitStage(from: number, lim: LimitResult, reason: string): DecisionStage {
  const rate = lim.reason === "ScaleUpLimit" || lim.reason === "ScaleDownLimit";
  return { stage: rate ? "rate limit" : "bounds", from, to: lim.replicas, reason };
}

/**
 * Decides the replica count of one workload at `now` (epoch ms). `state` is what the previous decision
 * returned (undefined the first time); keep the returned state for the next one.
 */
export function decide(input: DecisionInput, state: AutoscalerState | undefined, now: number): DecideResult {
  const current = input.scale?.specReplicas;
  if (!Number.isInteger(current) || current < 0) {
    return withoutScale(input.workload, `spec.replicas is ${current}, not a replica count`, state, now);
  }
  const config = resolveConfig(input.config);
  const policy = input.policy;
  const min = policy.minReplicas ?? 1;
  const max = policy.maxReplicas;
  const conditions: Condition[] = [];
  setCondition(conditions, "AbleToScale", true, "SucceededGetScale", "the target's scale was read");

  // With no history, the current size counts as a recommendation made now: the first decisions cannot
  // scale down before one stabilization window has passed.
  let recommendations: TimedRecommendation[] = state?.recommendations ?? [{ replicas: current, at: now }];
  let scaleUpEvents = (state?.scaleUpEvents ?? NO_EVENTS) as ScaleEvent[];
  let scaleDownEvents = (state?.scaleDownEvents ?? NO_EVENTS) as ScaleEvent[];
  const stages: DecisionStage[] = [];
  let proposals: MetricProposal[] = [];
  let desired = current;
  let summary: string | undefined;
  let note: string | undefined;

  let behavior: ResolvedBehavior | undefined;
  let problem = unusablePolicy(min, max);
  if (problem === undefined && policy.behavior) {
    try {
      behavior = resolveBehavior(policy.behavior, config);
    } catch (e) {
      problem = `behavior: ${(e as Error).message}`;
    }
  }

  if (problem !== undefined) {
    setCondition(conditions, "ScalingActive", false, "InvalidPolicy", problem);
    summary = `held at ${current}: invalid policy: ${problem}`;
  } else if (current === 0 && min !== 0) {
    desired = 0;
    setCondition(
      conditions,
      "ScalingActive",
      false,
      "ScalingDisabled",
      "scaling is disabled since the replica count of the target is zero",
    );
    summary = `held at 0: scaling is disabled while the target has 0 replicas (minReplicas ${min})`;
  } else if (current > max) {
    desired = max;
    stages.push({ stage: "bounds", from: current, to: max, reason: `above maxReplicas ${max}` });
  } else if (current < min) {
    desired = min;
    stages.push({ stage: "bounds", from: current, to: min, reason: `below minReplicas ${min}` });
  } else if (input.selectorProblem) {
    const p = input.selectorProblem;
    setCondition(conditions, "ScalingActive", false, p.reason, p.message);
    summary = `held at ${current}: ${p.message}`;
  } else {
    const tolerances: Tolerances = behavior
      ? { scaleUp: behavior.scaleUp.tolerance, scaleDown: behavior.scaleDown.tolerance }
      : { scaleUp: config.tolerance, scaleDown: config.tolerance };
    const ctx: MetricContext = {
      specReplicas: current,
      statusReplicas: input.scale.statusReplicas,
      pods: input.pods,
      now,
      timing: config,
      tolerances,
    };
    const specs = effectiveMetrics(policy);
    const outcome = computeReplicasForMetrics(specs, input.metrics, ctx);
    proposals = new Array(specs.length);
    for (let i = 0; i < specs.length; i++)
      proposals[i] = toProposal(specs[i] as MetricSpec, outcome.results[i] as MetricResult);
    if (outcome.invalid > 0) {
      const failed: string[] = [];
      for (const p of proposals) if (p.error !== undefined) failed.push(`${p.metric} failed: ${p.error}`);
      note = failed.join("; ");
    }

    if (outcome.blocked) {
      // Upstream stops here: no normalization, nothing recorded, the size stays.
      const first = outcome.results[outcome.firstInvalid];
      setCondition(
        conditions,
        "ScalingActive",
        false,
        first?.reason ?? "InvalidMetricSourceType",
        `the replica count could not be computed: ${first?.error}`,
      );
      const why =
        outcome.invalid >= specs.length
          ? "no metric could be computed"
          : "no scale-down while a metric is failing";
      summary = `held at ${current}: ${why}; ${note}`;
      // Without data nothing moves, except on an explicit instruction (an override from the API):
      // stages that change the number here take effect within the policy's bounds.
      const instructed = runStages(input, current, stages, now);
      if (instructed !== current) {
        desired = Math.min(max, Math.max(min, instructed));
        summary = undefined;
      }
    } else {
      const winner = proposals[outcome.winner] as MetricProposal;
      setCondition(
        conditions,
        "ScalingActive",
        true,
        "ValidMetricFound",
        `the replica count was computed from ${metricLabel(specs[outcome.winner] as MetricSpec)}`,
      );
      let d = outcome.replicas;
      stages.push({ stage: "metrics", from: current, to: d, reason: proposalReason(winner, tolerances) });

      // Seam for later stages (predictive and schedule floors, rules): pure, in order.
      d = runStages(input, d, stages, now);

      const st = behavior
        ? stabilizeWithBehavior(
            current,
            d,
            recommendations,
            behavior.scaleUp.stabilizationWindowSeconds * 1000,
            behavior.scaleDown.stabilizationWindowSeconds * 1000,
            now,
          )
        : stabilizeWithoutBehavior(d, recommendations, config.downscaleStabilizationMs, now);
      recommendations = st.recommendations;
      setCondition(conditions, "AbleToScale", true, st.reason, STABILIZED_MESSAGE[st.reason]);
      if (st.replicas !== d) {
        stages.push({
          stage: "stabilization",
          from: d,
          to: st.replicas,
          reason: stabilizationReason(st, now),
        });
      }

      const lim = behavior
        ? limitWithBehavior({
            current,
            desired: st.replicas,
            min,
            max,
            scaleUp: behavior.scaleUp,
            scaleDown: behavior.scaleDown,
            scaleUpEvents,
            scaleDownEvents,
            now,
          })
        : limitWithoutBehavior(
            current,
            st.replicas,
            min,
            max,
            config.scaleUpLimitFactor,
            config.scaleUpLimitMinimum,
          );
      setCondition(conditions, "ScalingLimited", lim.replicas !== st.replicas, lim.reason, lim.message);
      if (lim.replicas !== st.replicas) {
        const reason = limitReason(
          lim,
          behavior
            ? { min, max }
            : { min, max, factor: config.scaleUpLimitFactor, minimum: config.scaleUpLimitMinimum },
        );
        stages.push(limitStage(st.replicas, lim, reason));
      }
      desired = lim.replicas;
    }
  }

  const rescale = desired !== current;
  let lastScaleTime = state?.lastScaleTime;
  if (rescale) {
    setCondition(
      conditions,
      "AbleToScale",
      true,
      "SucceededRescale",
      `the target's scale is set to ${desired}`,
    );
    lastScaleTime = now;
    // Rate policies count past rescales, so they are only kept when behavior is set.
    if (behavior) {
      if (desired > current) {
        const longest = longestPeriodSeconds(behavior.scaleUp.policies);
        scaleUpEvents = storeScaleEvent(scaleUpEvents, desired - current, longest, now);
      } else {
        const longest = longestPeriodSeconds(behavior.scaleDown.policies);
        scaleDownEvents = storeScaleEvent(scaleDownEvents, current - desired, longest, now);
      }
    }
  }

  const next: AutoscalerState = {
    recommendations,
    scaleUpEvents: scaleUpEvents === NO_EVENTS ? [] : scaleUpEvents,
    scaleDownEvents: scaleDownEvents === NO_EVENTS ? [] : scaleDownEvents,
  };
  if (lastScaleTime !== undefined) next.lastScaleTime = lastScaleTime;

  return {
    decision: {
      at: now,
      workload: input.workload,
      currentReplicas: current,
      desiredReplicas: desired,
      proposals,
      stages,
      conditions,
      summary: summary ?? summarize(current, desired, stages, note),
      rescale,
    },
    state: next,
  };
}

/** Runs the input's extra stages over `replicas`, recording each that changed it. */
function runStages(input: DecisionInput, replicas: number, stages: DecisionStage[], now: number): number {
  let d = replicas;
  for (const stage of input.stages ?? []) {
    const r = stage.apply(d, input, now);
    if (r.replicas !== d) {
      stages.push({ stage: stage.name, from: d, to: r.replicas, reason: r.reason });
      d = r.replicas;
    }
  }
  return d;
}

/**
 * The decision and state after the scale update failed: AbleToScale=False FailedUpdateScale and no scale
 * event recorded (upstream records events only after a successful update). `previous` is the state that
 * was passed to `decide`.
 */
export function withFailedRescale(
  result: DecideResult,
  previous: AutoscalerState | undefined,
  message: string,
): DecideResult {
  const conditions = result.decision.conditions.slice();
  setCondition(
    conditions,
    "AbleToScale",
    false,
    "FailedUpdateScale",
    `the target's scale could not be updated: ${message}`,
  );
  const state: AutoscalerState = {
    recommendations: result.state.recommendations,
    scaleUpEvents: previous?.scaleUpEvents ?? [],
    scaleDownEvents: previous?.scaleDownEvents ?? [],
  };
  if (previous?.lastScaleTime !== undefined) state.lastScaleTime = previous.lastScaleTime;
  return {
    decision: {
      ...result.decision,
      conditions,
      summary: `${result.decision.summary} (scale update failed: ${message})`,
    },
    state,
  };
}

/**
 * The decision when the target's scale could not be read: AbleToScale=False FailedGetScale, nothing
 * computed, state unchanged.
 */
export function withoutScale(
  workload: string,
  message: string,
  state: AutoscalerState | undefined,
  now: number,
  lastKnownReplicas = 0,
): DecideResult {
  const conditions: Condition[] = [];
  setCondition(
    conditions,
    "AbleToScale",
    false,
    "FailedGetScale",
    `the target's scale could not be read: ${message}`,
  );
  return {
    decision: {
      at: now,
      workload,
      currentReplicas: lastKnownReplicas,
      desiredReplicas: lastKnownReplicas,
      proposals: [],
      stages: [],
      conditions,
      summary: `held at ${lastKnownReplicas}: the target's scale could not be read: ${message}`,
      rescale: false,
    },
    state: state ?? { recommendations: null, scaleUpEvents: [], scaleDownEvents: [] },
  };
}
