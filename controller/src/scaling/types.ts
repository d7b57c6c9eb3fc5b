/**
 * The scaling core's data: policies in the autoscaling/v2 shape (plus Ballast's `Signal` metric), what
 * the sources measured, the state kept between decisions and the decision itself. Everything here is
 * plain JSON-serialisable data; times are epoch milliseconds, metric values are milli-units.
 */
import type { Quantity } from "./quantity.js";

export { parseQuantity, type Quantity, QuantityError } from "./quantity.js";

// ---------------------------------------------------------------------------------------------------
// Policy (autoscaling/v2 field names)

export type MetricTargetType = "Utilization" | "Value" | "AverageValue";

export interface MetricTarget {
  type: MetricTargetType;
  /** Percent of the pods' summed requests; Resource and ContainerResource only. */
  averageUtilization?: number;
  /** The whole metric's value; Object and External only. */
  value?: Quantity;
  /** Per pod. */
  averageValue?: Quantity;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface MetricIdentifier {
  name: string;
  selector?: LabelSelector;
}

export interface CrossVersionObjectReference {
  kind: string;
  name: string;
  apiVersion?: string;
}

export interface ResourceMetricSpec {
  type: "Resource";
  resource: { name: string; target: MetricTarget };
}
export interface ContainerResourceMetricSpec {
  type: "ContainerResource";
  containerResource: { name: string; container: string; target: MetricTarget };
}
export interface PodsMetricSpec {
  type: "Pods";
  pods: { metric: MetricIdentifier; target: MetricTarget };
}
export interface ObjectMetricSpec {
  type: "Object";
  object: { describedObject: CrossVersionObjectReference; metric: MetricIdentifier; target: MetricTarget };
}
export interface ExternalMetricSpec {
  type: "External";
  external: { metric: MetricIdentifier; target: MetricTarget };
}
/**
 * Ballast's pushed in-process signal (inflight, event_loop_utilization, latency_p95_ms, a custom gauge
 * such as queue_backlog), read per pod and computed exactly like a Pods metric with an AverageValue target.
 */
export interface SignalMetricSpec {
  type: "Signal";
  signal: { name: string; target: MetricTarget };
}

export type MetricSpec =
  | ResourceMetricSpec
  | ContainerResourceMetricSpec
  | PodsMetricSpec
  | ObjectMetricSpec
  | ExternalMetricSpec
  | SignalMetricSpec;

export type MetricSourceType = MetricSpec["type"];

export type ScalingPolicyType = "Pods" | "Percent";
export type ScalingPolicySelect = "Max" | "Min" | "Disabled";

export interface HPAScalingPolicy {
  type: ScalingPolicyType;
  value: number;
  periodSeconds: number;
}

export interface HPAScalingRules {
  stabilizationWindowSeconds?: number;
  selectPolicy?: ScalingPolicySelect;
  policies?: HPAScalingPolicy[];
  /** Fraction of the target (e.g. "0.05" or "50m") inside which this direction does not move. */
  tolerance?: Quantity;
}

export interface HorizontalPodAutoscalerBehavior {
  scaleUp?: HPAScalingRules;
  scaleDown?: HPAScalingRules;
}

/**
 * A scenario: a window of time with its own replica band, such as a match (kick-off every Saturday
 * 15:00 Europe/London for 3 h, pre-warmed 20 min before) or a one-off sale (start/end instants).
 */
export interface ScheduleWindow {
  name: string;
  /** IANA time zone of `cron` (default UTC). */
  timezone?: string;
  /** Start times as a five-field cron expression in `timezone`; needs durationSeconds. */
  cron?: string;
  durationSeconds?: number;
  /** One-off window (RFC 3339); with `cron`, the span in which the recurrence applies. */
  start?: string;
  end?: string;
  /** The band starts this long before each start, so replicas are warm when the crowd arrives. */
  leadSeconds?: number;
  minReplicas?: number;
  maxReplicas?: number;
  /** Default true; the replica-control API switches scenarios at run time. */
  enabled?: boolean;
}

/** A per-decision limit: at most this many replicas, or this percent of the current count (the larger). */
export interface StepLimit {
  replicas?: number;
  percent?: number;
}

/** Per-workload rules that win over the metrics (see rules.ts). */
export interface PolicyRules {
  /** No scale-up (until the time, when given): e.g. a service that must not grow during a migration. */
  forbidScaleUp?: { until?: string };
  /** No scale-down (until the time, when given): e.g. "never scale this one down". */
  forbidScaleDown?: { until?: string };
  maxStepUp?: StepLimit;
  maxStepDown?: StepLimit;
  /** Keep at least this many ready replicas: unready ones are made up for with extra replicas. */
  minReadyReplicas?: number;
}

/** A floor from the forecast demand of one metric (see predictive.ts). */
export interface PredictiveSpec {
  /** Default true. */
  enabled?: boolean;
  /** The metric to forecast, by its name; default the first with an AverageValue or Utilization target. */
  metric?: string;
  /** How far ahead the floor looks (default 600). */
  horizonSeconds?: number;
  /** Demand is averaged per bucket of this width (default 300). */
  bucketSeconds?: number;
  /** Learn a weekly cycle beside the daily one (default true). */
  weekly?: boolean;
  /** Above this backtest error the floor switches itself off (default 25). */
  maxErrorPercent?: number;
  /** Longer history read at start-up, so the forecast does not start from nothing. */
  history?: { prometheus: { query: string; lookbackDays?: number } };
}

/** A floor from the recent spread of one metric's demand (see burst-headroom.ts). */
export interface BurstHeadroomSpec {
  /** The metric, by its name; default the first with an AverageValue or Utilization target. */
  metric?: string;
  /** The demand one pod carries within its SLO (a quantity); default the metric's own target. */
  capacityPerPod?: string | number;
  /** Standard deviations of headroom above the mean (default 4). */
  sigmas?: number;
  /** The window the mean and spread are measured over (default 120). */
  windowSeconds?: number;
}

export interface ScalingPolicySpec {
  /** Defaults to 1; 0 needs an Object or External metric (scale to zero). */
  minReplicas?: number;
  maxReplicas: number;
  /** Defaults to cpu at 80% utilization, as the autoscaling/v2 API does. */
  metrics?: MetricSpec[];
  /** When set (even `{}`), unset fields take the autoscaling/v2 defaults; when absent, the legacy rules. */
  behavior?: HorizontalPodAutoscalerBehavior;
  /** Scenario windows with their own replica bands (see schedule.ts). */
  schedules?: ScheduleWindow[];
  rules?: PolicyRules;
  predictive?: PredictiveSpec;
  burstHeadroom?: BurstHeadroomSpec;
}

// ---------------------------------------------------------------------------------------------------
// Inputs

export type PodPhase = "Pending" | "Running" | "Succeeded" | "Failed" | "Unknown";

export interface ContainerInfo {
  name: string;
  /** cpu in millicores, memory in milli-bytes (both milli-units); other resources by name. */
  requests?: { cpu?: number; memory?: number; [resource: string]: number | undefined };
  /** A sidecar: an init container with `restartPolicy: Always`; its requests count. */
  restartPolicyAlways?: boolean;
  /** An init container; only counted when it is a sidecar. */
  init?: boolean;
}

export interface PodInfo {
  name: string;
  phase: PodPhase;
  /** The Ready condition's status; null when the pod has no Ready condition. */
  ready: boolean | null;
  /** When the pod started (status.startTime); undefined when it has none. */
  startTime?: number;
  /** When the Ready condition last changed; undefined reads as "long ago". */
  readyTransitionTime?: number;
  /** The pod has a deletionTimestamp. */
  deleting?: boolean;
  containers?: ContainerInfo[];
  /** Pod-level requests (PodLevelResources); used instead of the containers' when set and no container is named. */
  podRequests?: { cpu?: number; memory?: number; [resource: string]: number | undefined };
}

/** One pod's sample of one metric. */
export interface PodSample {
  /** Milli-units; for a resource, the sum over the pod's containers. */
  value: number;
  /** When it was measured (ms) and over how long a window (ms; 60 s from metrics-server). */
  timestamp: number;
  window: number;
  /** Per-container values (milli-units), for ContainerResource metrics. */
  containers?: Record<string, number>;
}

/** What a source returned for one metric. */
export interface MetricValues {
  /** Per-pod samples by pod name (Resource, ContainerResource, Pods, Signal). */
  podSamples?: Map<string, PodSample>;
  /** The described object's value (Object), milli-units. */
  objectValue?: number;
  /** Every matching series (External), milli-units; they are summed. */
  externalValues?: number[];
  /** The source failed; the metric is invalid for this decision. */
  error?: string;
}

export interface ControllerConfig {
  /** Fraction of the target inside which nothing moves (both directions unless behavior overrides). */
  tolerance: number;
  cpuInitializationPeriodMs: number;
  delayOfInitialReadinessStatusMs: number;
  /** Scale-down stabilization without `behavior`, and the default scaleDown window with it. */
  downscaleStabilizationMs: number;
  /** Without `behavior`, one decision grows to at most max(factor × current, minimum). */
  scaleUpLimitFactor: number;
  scaleUpLimitMinimum: number;
}

/** kube-controller-manager's defaults for the HPA flags. */
export const DEFAULT_CONTROLLER_CONFIG: Readonly<ControllerConfig> = Object.freeze({
  tolerance: 0.1,
  cpuInitializationPeriodMs: 300_000,
  delayOfInitialReadinessStatusMs: 30_000,
  downscaleStabilizationMs: 300_000,
  scaleUpLimitFactor: 2,
  scaleUpLimitMinimum: 4,
});

/** A recommendation (a proposal before stabilization) and when it was made. */
export interface TimedRecommendation {
  replicas: number;
  at: number;
}

/** A past rescale: how many replicas it added or removed, when, and whether its slot may be reused. */
export interface ScaleEvent {
  replicaChange: number;
  at: number;
  outdated: boolean;
}

/** What one autoscaler remembers between decisions; plain JSON. */
export interface AutoscalerState {
  /** null until the first decision (which records the current size, so scale-down waits one window). */
  recommendations: TimedRecommendation[] | null;
  scaleUpEvents: ScaleEvent[];
  scaleDownEvents: ScaleEvent[];
  lastScaleTime?: number;
}

/**
 * A pure stage between the metrics' maximum and normalization (predictive floors, schedules, rules).
 * It returns the replicas it wants and, when it changed them, why in words.
 */
export interface RecommendationStage {
  name: string;
  apply(replicas: number, input: DecisionInput, now: number): { replicas: number; reason: string };
}

export interface DecisionInput {
  workload: string;
  policy: ScalingPolicySpec;
  /** currentReplicas is spec.replicas; statusReplicas is used by Object/External AverageValue. */
  scale: { specReplicas: number; statusReplicas: number };
  pods: readonly PodInfo[];
  /** One entry per metric, in the order of `effectiveMetrics(policy)`. */
  metrics: readonly (MetricValues | undefined)[];
  config?: Partial<ControllerConfig>;
  /** The target's selector could not be used (InvalidSelector / AmbiguousSelector); nothing is computed. */
  selectorProblem?: { reason: "InvalidSelector" | "AmbiguousSelector"; message: string };
  /** Stages run after the metrics' maximum, in order (seam for predictive, schedules, rules). */
  stages?: readonly RecommendationStage[];
}

// ---------------------------------------------------------------------------------------------------
// Output

export type ConditionType = "AbleToScale" | "ScalingActive" | "ScalingLimited";

export interface Condition {
  type: ConditionType;
  status: "True" | "False";
  reason: string;
  message: string;
}

export interface MetricProposal {
  /** Human name, e.g. "signal inflight", "resource cpu", "external queue_messages". */
  metric: string;
  type: string;
  /** What this metric alone asks for; absent when it failed. */
  replicas?: number;
  /** The measured value in words: "9.6/pod", "85% of request", "1.2k". */
  current?: string;
  target?: string;
  /** current ÷ target, as the calculator compared it with the tolerance. */
  ratio?: number;
  /** How the pods were counted; only for per-pod metrics. */
  pods?: { ready: number; unready: number; missing: number; ignored: number };
  error?: string;
}

/** Built-in stages; extra stages add their own names. */
export type StageName = "metrics" | "stabilization" | "rate limit" | "bounds" | (string & {});

export interface DecisionStage {
  stage: StageName;
  from: number;
  to: number;
  reason: string;
}

export interface Decision {
  at: number;
  workload: string;
  currentReplicas: number;
  desiredReplicas: number;
  proposals: MetricProposal[];
  /** The metrics stage, then each stage that changed the number. */
  stages: DecisionStage[];
  conditions: Condition[];
  /** One line: "2 → 5: signal inflight 9.6/pod vs 4/pod" or "held at 6: …". */
  summary: string;
  rescale: boolean;
}
