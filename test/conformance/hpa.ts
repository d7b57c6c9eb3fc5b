/**
 * Runs one HPA conformance vector through Ballast's scaling core (vector format: §9 of the conformance
 * reference ALGORITHM.md that ships with vectors.json). This file only maps the vector's shape to
 * Ballast's types and the result back to the shape of the vector's `expect`; every number comes from
 * controller/src/scaling.
 *
 * `evaluateHpaVector(vector)` is called by outside suites too: keep its name, path and behaviour.
 */
import {
  type AutoscalerState,
  type ContainerInfo,
  type ControllerConfig,
  computeReplicasForMetric,
  DEFAULT_SCALE_DOWN_RULES,
  DEFAULT_SCALE_UP_RULES,
  decide,
  defaultScalingRules,
  effectiveMetrics,
  groupPod,
  type HorizontalPodAutoscalerBehavior,
  type HPAScalingRules,
  IGNORED,
  limitWithBehavior,
  limitWithoutBehavior,
  longestPeriodSeconds,
  type MetricSpec,
  type MetricTarget,
  type MetricValues,
  MISSING,
  type PodInfo,
  type PodSample,
  READY,
  replicasChangeInPeriod,
  resolveBehavior,
  resolveConfig,
  type ScaleEvent,
  type ScalingPolicySpec,
  scaleDownLimit,
  scaleUpLimit,
  stabilizeWithBehavior,
  stabilizeWithoutBehavior,
  storeScaleEvent,
  type TimedRecommendation,
  UNREADY,
  withFailedRescale,
  withoutScale,
} from "../../controller/src/scaling/index.js";

// biome-ignore lint/suspicious/noExplicitAny: vectors are untyped JSON of several shapes
type J = any;

/** "Now" for every vector; vector times are offsets from it. */
const NOW = 1_700_000_000_000;
/** Go's zero time ("infinitely long ago") in vectors, in seconds from now. */
const ZERO_TIME_SEC = -10_000_000_000;

/** The values upstream's unit tests run with (RC L38–44, horizontal_test.go init). */
const TEST_CONFIG: ControllerConfig = {
  tolerance: 0.1,
  cpuInitializationPeriodMs: 120_000,
  delayOfInitialReadinessStatusMs: 10_000,
  downscaleStabilizationMs: 300_000,
  scaleUpLimitFactor: 8,
  scaleUpLimitMinimum: 4,
};

const isSet = (v: unknown): boolean => v !== undefined && v !== null;
const atOffset = (sec: number): number => NOW + sec * 1000;
const ago = (ageSec: number): number => NOW - ageSec * 1000;
const milli = (v: number): string => `${v}m`;

// ---------------------------------------------------------------------------------------------------
// Pods and samples

function toContainer(c: J): ContainerInfo {
  const requests: Record<string, number> = {};
  for (const [k, v] of Object.entries(c ?? {})) {
    const m = /^requestMilli(.+)$/.exec(k);
    if (m && typeof v === "number") requests[(m[1] as string).toLowerCase()] = v;
  }
  if (c?.requests && typeof c.requests === "object") {
    for (const [k, v] of Object.entries(c.requests)) if (typeof v === "number") requests[k] = v;
  }
  const sidecar = c?.restartPolicy === "Always" || c?.restartPolicyAlways === true || c?.sidecar === true;
  return {
    name: String(c?.name ?? "container"),
    requests,
    restartPolicyAlways: sidecar,
    init: c?.init === true || c?.initContainer === true || sidecar,
  };
}

function toPod(p: J): PodInfo {
  let containers: ContainerInfo[] | undefined;
  if (Array.isArray(p.containers)) {
    const list: ContainerInfo[] = p.containers.map(toContainer);
    if (Array.isArray(p.initContainers)) {
      list.push(...p.initContainers.map((c: J) => ({ ...toContainer(c), init: true })));
    }
    containers = list;
  } else if (p.cpuRequestMilli !== undefined) {
    containers = [
      { name: "container", requests: isSet(p.cpuRequestMilli) ? { cpu: p.cpuRequestMilli } : {} },
    ];
  }
  const pod: PodInfo = {
    name: String(p.name),
    phase: p.phase ?? "Running",
    // Upstream fixtures give every pod a Ready=True condition unless told otherwise; null = no condition.
    ready: p.ready === undefined ? true : p.ready,
    readyTransitionTime: atOffset(p.readyTransitionTimeSec ?? ZERO_TIME_SEC),
    deleting: p.deletionTimestampSet === true || p.deleting === true,
  };
  // An absent start time is the fixtures' zero time; null means the pod has none.
  if (p.startTimeSec !== null) pod.startTime = atOffset(p.startTimeSec ?? ZERO_TIME_SEC);
  if (containers) pod.containers = containers;
  if (isSet(p.podRequestMilliCpu)) pod.podRequests = { cpu: p.podRequestMilliCpu };
  return pod;
}

function toSample(m: J): PodSample | undefined {
  if (!m || typeof m !== "object") return undefined;
  const containers: Record<string, number> | undefined = m.containerValuesMilli ?? undefined;
  let value = m.valueMilli;
  if (!isSet(value) && containers)
    value = Object.values(containers).reduce((s: number, v) => s + (v as number), 0);
  if (typeof value !== "number") return undefined;
  const sample: PodSample = {
    value,
    timestamp: atOffset(m.timestampSec ?? ZERO_TIME_SEC),
    window: (m.windowSec ?? 60) * 1000,
  };
  if (containers) sample.containers = containers;
  return sample;
}

/** Per-pod samples of the metric named `key` (the resource name or the custom metric's name). */
function podSamples(input: J, key: string, container: string | undefined): Map<string, PodSample> {
  const samples = new Map<string, PodSample>();
  for (const p of input.pods ?? []) {
    let s: PodSample | undefined;
    if (p.metrics && typeof p.metrics === "object") s = toSample(p.metrics[key]);
    else if (typeof p.metricValueMilli === "number" && p.metricMissing !== true) {
      // Older vector shape: only the value used for the case's metric.
      s = toSample({ valueMilli: p.metricValueMilli });
      if (s && container) s.containers = { [container]: p.metricValueMilli };
    }
    if (s) samples.set(String(p.name), s);
  }
  for (const extra of input.extraMetrics ?? []) {
    const s = toSample(extra.metrics?.[key] ?? extra);
    if (s) samples.set(String(extra.name), s);
  }
  return samples;
}

// ---------------------------------------------------------------------------------------------------
// Metrics

function toTarget(targetType: string, target: number): MetricTarget {
  switch (targetType) {
    case "Utilization":
      return { type: "Utilization", averageUtilization: target };
    case "Value":
      return { type: "Value", value: milli(target) };
    default:
      return { type: "AverageValue", averageValue: milli(target) };
  }
}

function toMetricSpec(m: J): MetricSpec {
  const target = toTarget(m.targetType, m.target);
  switch (m.type) {
    case "Resource":
      return { type: "Resource", resource: { name: m.resource ?? m.name ?? "cpu", target } };
    case "ContainerResource":
      return {
        type: "ContainerResource",
        containerResource: { name: m.resource ?? m.name ?? "cpu", container: m.container, target },
      };
    case "Pods":
      return { type: "Pods", pods: { metric: { name: m.name, selector: m.selector ?? undefined }, target } };
    case "Object":
      return {
        type: "Object",
        object: {
          describedObject: m.describedObject ?? { kind: "Deployment", name: "some-deployment" },
          metric: { name: m.name },
          target,
        },
      };
    case "External":
      return {
        type: "External",
        external: { metric: { name: m.name, selector: m.selector ?? undefined }, target },
      };
    case "Signal":
      return { type: "Signal", signal: { name: m.name, target } };
    default:
      return { type: m.type } as unknown as MetricSpec;
  }
}

/** What a source would return for `spec`, from the vector's pods and values. */
function valuesFor(spec: MetricSpec, input: J): MetricValues {
  if (typeof input.metricError === "string") return { error: input.metricError };
  switch (spec.type) {
    case "Resource":
      return { podSamples: podSamples(input, spec.resource.name, undefined) };
    case "ContainerResource":
      return {
        podSamples: podSamples(input, spec.containerResource.name, spec.containerResource.container),
      };
    case "Pods":
      return { podSamples: podSamples(input, spec.pods.metric.name, undefined) };
    case "Signal":
      return { podSamples: podSamples(input, spec.signal.name, undefined) };
    case "Object":
      return isSet(input.objectMetricValueMilli) ? { objectValue: input.objectMetricValueMilli } : {};
    case "External":
      return isSet(input.externalMetricValuesMilli)
        ? { externalValues: input.externalMetricValuesMilli }
        : {};
    default:
      return {};
  }
}

function tolerancesOf(t: J): { scaleUp: number; scaleDown: number } {
  if (typeof t === "number") return { scaleUp: t, scaleDown: t };
  return { scaleUp: t?.scaleUp ?? TEST_CONFIG.tolerance, scaleDown: t?.scaleDown ?? TEST_CONFIG.tolerance };
}

function replicaCalc(input: J): object {
  const spec = toMetricSpec(input.metric ?? {});
  const current = input.currentReplicas;
  const r = computeReplicasForMetric(spec, valuesFor(spec, input), {
    specReplicas: current,
    statusReplicas: input.statusReplicas ?? current,
    pods: (input.pods ?? []).map(toPod),
    now: NOW,
    timing: {
      cpuInitializationPeriodMs: (input.cpuInitializationPeriodSec ?? 120) * 1000,
      delayOfInitialReadinessStatusMs: (input.delayOfInitialReadinessStatusSec ?? 10) * 1000,
    },
    tolerances: tolerancesOf(input.tolerance),
  });
  if (r.replicas === undefined) return { error: r.error };
  if (r.kind === "utilization") {
    return { desiredReplicas: r.replicas, utilization: r.utilization, rawValue: r.rawValue };
  }
  return { desiredReplicas: r.replicas, usage: r.usage };
}

// ---------------------------------------------------------------------------------------------------
// Behavior

function toRules(r: J): HPAScalingRules | undefined {
  if (!r || typeof r !== "object") return undefined;
  const out: HPAScalingRules = {};
  if (isSet(r.stabilizationWindowSeconds)) out.stabilizationWindowSeconds = r.stabilizationWindowSeconds;
  if (isSet(r.selectPolicy)) out.selectPolicy = r.selectPolicy;
  if (Array.isArray(r.policies)) out.policies = r.policies;
  if (isSet(r.tolerance)) out.tolerance = r.tolerance;
  return out;
}

function toBehavior(b: J): HorizontalPodAutoscalerBehavior | undefined {
  if (!b || typeof b !== "object") return undefined;
  const out: HorizontalPodAutoscalerBehavior = {};
  const up = toRules(b.scaleUp);
  const down = toRules(b.scaleDown);
  if (up) out.scaleUp = up;
  if (down) out.scaleDown = down;
  return out;
}

function toEvents(list: J): ScaleEvent[] {
  return (list ?? []).map((e: J) => ({
    replicaChange: e.replicaChange,
    at: ago(e.ageSec ?? 0),
    outdated: e.outdated === true,
  }));
}

function toRecommendations(list: J): TimedRecommendation[] {
  return (list ?? []).map((r: J) => ({ replicas: r.replicas, at: ago(r.ageSec ?? 0) }));
}

function configOf(c: J): ControllerConfig {
  const sec = (v: unknown, fallbackMs: number) => (typeof v === "number" ? v * 1000 : fallbackMs);
  return resolveConfig({
    tolerance: c?.tolerance ?? TEST_CONFIG.tolerance,
    cpuInitializationPeriodMs: sec(c?.cpuInitializationPeriodSec, TEST_CONFIG.cpuInitializationPeriodMs),
    delayOfInitialReadinessStatusMs: sec(
      c?.delayOfInitialReadinessStatusSec,
      TEST_CONFIG.delayOfInitialReadinessStatusMs,
    ),
    downscaleStabilizationMs: sec(c?.downscaleStabilizationWindowSec, TEST_CONFIG.downscaleStabilizationMs),
    scaleUpLimitFactor: c?.scaleUpLimitFactor ?? TEST_CONFIG.scaleUpLimitFactor,
    scaleUpLimitMinimum: c?.scaleUpLimitMinimum ?? TEST_CONFIG.scaleUpLimitMinimum,
  });
}

/** The behavior under test: the raw spec (defaulted by Ballast), else the already-defaulted one. */
function behaviorUnderTest(input: J): HorizontalPodAutoscalerBehavior {
  return toBehavior(input.behaviorSpec) ?? toBehavior(input.effectiveBehavior) ?? {};
}

function reconcile(input: J, name: string): object {
  const hpa = input.hpa ?? {};
  const policy: ScalingPolicySpec = {
    maxReplicas: hpa.maxReplicas,
    metrics: (hpa.metrics ?? []).map(toMetricSpec),
  };
  if (isSet(hpa.minReplicas)) policy.minReplicas = hpa.minReplicas;
  const behavior = toBehavior(hpa.behaviorSpec ?? hpa.behavior);
  if (behavior) policy.behavior = behavior;
  const state: AutoscalerState = {
    recommendations: Array.isArray(input.recommendations) ? toRecommendations(input.recommendations) : null,
    scaleUpEvents: toEvents(input.scaleUpEvents),
    scaleDownEvents: toEvents(input.scaleDownEvents),
  };
  const outcome = (d: { desiredReplicas: number; rescale: boolean; conditions: J[] }) => ({
    desiredReplicas: d.desiredReplicas,
    scaled: d.rescale,
    conditions: d.conditions.map((c) => ({ type: c.type, status: c.status, reason: c.reason })),
  });
  const scale = input.scale;
  const getScaleError = input.getScaleError ?? input.scaleError ?? scale?.error;
  if (!scale || isSet(getScaleError)) {
    return outcome(withoutScale(name, String(getScaleError ?? "no scale"), state, NOW).decision);
  }
  const specReplicas = scale.specReplicas ?? scale.replicas;
  let result = decide(
    {
      workload: name,
      policy,
      scale: { specReplicas, statusReplicas: scale.statusReplicas ?? specReplicas },
      pods: (input.pods ?? []).map(toPod),
      metrics: effectiveMetrics(policy).map((spec) => valuesFor(spec, input)),
      config: configOf(input.controller),
      selectorProblem: input.selectorError
        ? {
            reason: input.selectorError.reason ?? "InvalidSelector",
            message: String(input.selectorError.message ?? input.selectorError),
          }
        : undefined,
    },
    state,
    NOW,
  );
  const updateError = input.updateScaleError ?? input.scaleUpdateError;
  if (isSet(updateError) && result.decision.rescale)
    result = withFailedRescale(result, state, String(updateError));
  return outcome(result.decision);
}

function behaviorFunction(input: J, name: string): object {
  switch (input.function) {
    case "reconcileAutoscaler":
      return reconcile(input, name);
    case "convertDesiredReplicasWithBehaviorRate": {
      const b = resolveBehavior(behaviorUnderTest(input), resolveConfig(undefined));
      const r = limitWithBehavior({
        current: input.currentReplicas,
        desired: input.desiredReplicas,
        min: input.minReplicas ?? 1,
        max: input.maxReplicas,
        scaleUp: b.scaleUp,
        scaleDown: b.scaleDown,
        scaleUpEvents: toEvents(input.scaleUpEvents),
        scaleDownEvents: toEvents(input.scaleDownEvents),
        now: NOW,
      });
      return { replicas: r.replicas, condition: r.reason };
    }
    case "convertDesiredReplicasWithRules": {
      const run = (factor: number, minimum: number) => {
        const r = limitWithoutBehavior(
          input.currentReplicas,
          input.desiredReplicas,
          input.minReplicas ?? 1,
          input.maxReplicas,
          factor,
          minimum,
        );
        return { replicas: r.replicas, condition: r.reason };
      };
      const minimum = input.scaleUpLimitMinimum ?? TEST_CONFIG.scaleUpLimitMinimum;
      return {
        ...run(input.scaleUpLimitFactor ?? TEST_CONFIG.scaleUpLimitFactor, minimum),
        productionFactor2: run(2, minimum),
      };
    }
    case "stabilizeRecommendationWithBehaviors": {
      const r = stabilizeWithBehavior(
        input.currentReplicas,
        input.desiredReplicas,
        toRecommendations(input.recommendations),
        (input.scaleUpStabilizationWindowSeconds ?? 0) * 1000,
        (input.scaleDownStabilizationWindowSeconds ?? 300) * 1000,
        NOW,
      );
      return {
        stabilizedReplicas: r.replicas,
        storedRecommendations: r.recommendations.map((x) => x.replicas),
        reason: r.reason,
      };
    }
    case "stabilizeRecommendation": {
      const r = stabilizeWithoutBehavior(
        input.desiredReplicas,
        toRecommendations(input.recommendations),
        (input.downscaleStabilizationWindowSec ?? 300) * 1000,
        NOW,
      );
      return {
        stabilizedReplicas: r.replicas,
        recommendationsLogLength: r.recommendations.length,
        storedRecommendations: r.recommendations.map((x) => x.replicas),
      };
    }
    case "calculateScaleUpLimitWithScalingRules": {
      const rules = defaultScalingRules(toRules(input.rules), DEFAULT_SCALE_UP_RULES);
      const r = scaleUpLimit(
        input.currentReplicas,
        toEvents(input.scaleUpEvents),
        toEvents(input.scaleDownEvents),
        rules,
        NOW,
      );
      return { limit: r.limit };
    }
    case "calculateScaleDownLimitWithBehaviors": {
      const rules = defaultScalingRules(toRules(input.rules), DEFAULT_SCALE_DOWN_RULES);
      const r = scaleDownLimit(
        input.currentReplicas,
        toEvents(input.scaleUpEvents),
        toEvents(input.scaleDownEvents),
        rules,
        NOW,
      );
      return { limit: r.limit };
    }
    case "storeScaleEvent": {
      // Upstream runs each case as a scale-up and as a scale-down with the same rules; both must agree.
      const prev = toEvents(input.prevScaleEvents);
      const change = input.replicaChange ?? 5;
      const run = (defaults: typeof DEFAULT_SCALE_UP_RULES) => {
        const rules = input.scalingRules;
        const events = isSet(rules)
          ? storeScaleEvent(
              prev,
              change,
              longestPeriodSeconds(defaultScalingRules(toRules(rules), defaults).policies),
              NOW,
            )
          : prev; // no behavior: nothing is stored
        return {
          replicasChangeInLast60s: replicasChangeInPeriod(prev, 60, NOW),
          newScaleEvents: events.map((e) => ({ replicaChange: e.replicaChange, outdated: e.outdated })),
        };
      };
      const up = run(DEFAULT_SCALE_UP_RULES);
      const down = run(DEFAULT_SCALE_DOWN_RULES);
      return JSON.stringify(up) === JSON.stringify(down) ? up : { scaleUp: up, scaleDown: down };
    }
    default:
      throw new Error(`unsupported behavior function ${JSON.stringify(input.function)}`);
  }
}

/**
 * Pod grouping alone (RC `groupPods`), for vectors of that kind: pods in the usual shape, samples per pod
 * under `metrics[resource]` or in `input.metrics` (by pod name, or a list of {name, …}).
 */
function groupPodsVector(input: J): object {
  const resource = String(input.resource ?? input.metric?.resource ?? "cpu");
  const samples = podSamples(input, resource, undefined);
  const extra = input.metrics;
  const entries: [string, J][] = Array.isArray(extra)
    ? extra.map((m: J) => [String(m.name), m])
    : extra && typeof extra === "object"
      ? Object.entries(extra)
      : [];
  for (const [name, m] of entries) {
    const s = toSample(m?.[resource] ?? m);
    if (s) samples.set(name, s);
  }
  const timing = {
    cpuInitializationPeriodMs: (input.cpuInitializationPeriodSec ?? 120) * 1000,
    delayOfInitialReadinessStatusMs: (input.delayOfInitialReadinessStatusSec ?? 10) * 1000,
  };
  const groups: Record<number, string[]> = { [READY]: [], [UNREADY]: [], [MISSING]: [], [IGNORED]: [] };
  for (const p of (input.pods ?? []).map(toPod)) {
    groups[groupPod(p, samples.get(p.name), resource === "cpu", NOW, timing)]?.push(p.name);
  }
  const sorted = (g: number) => (groups[g] ?? []).slice().sort();
  const ready = (groups[READY] ?? []).length;
  return {
    readyPodCount: ready,
    readyCount: ready,
    unreadyPods: sorted(UNREADY),
    missingPods: sorted(MISSING),
    ignoredPods: sorted(IGNORED),
    readyPods: sorted(READY),
  };
}

/** Keeps the keys the vector expects (its `expect` decides the shape); an error result stays as is. */
function shapeLike(result: Record<string, unknown>, expect: J): object {
  if ("error" in result || !expect || typeof expect !== "object" || Array.isArray(expect)) return result;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(expect)) if (k in result) out[k] = result[k];
  return out;
}

/**
 * Evaluates one vector and returns what Ballast computes, in the shape of the vector's `expect`
 * (`{error: message}` when the computation fails).
 */
export function evaluateHpaVector(vector: J): object {
  const input = vector?.input ?? {};
  let result: object;
  if (vector?.kind === "replicaCalc") result = replicaCalc(input);
  else if (
    /^(groupPods|podGrouping|groupPod)$/.test(String(vector?.kind)) ||
    input.function === "groupPods"
  ) {
    result = groupPodsVector(input);
  } else if (vector?.kind === "behavior") result = behaviorFunction(input, String(vector.name ?? "hpa"));
  else throw new Error(`unsupported vector kind ${JSON.stringify(vector?.kind)}`);
  return shapeLike(result as Record<string, unknown>, vector.expect);
}
