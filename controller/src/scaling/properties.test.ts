// Properties of the whole decision, over random policies, pods, samples, histories and failures.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decide } from "./pipeline.js";
import { computeReplicasForMetric } from "./replica-calculator.js";
import type {
  AutoscalerState,
  DecisionInput,
  HorizontalPodAutoscalerBehavior,
  HPAScalingRules,
  MetricSpec,
  MetricValues,
  PodInfo,
  PodSample,
} from "./types.js";

const NOW = 1_700_000_000_000;

// ---------------------------------------------------------------------------------------------------
// Generators

interface PodSeed {
  phase: PodInfo["phase"];
  ready: boolean | null;
  startAgoSec: number;
  readyAgoSec: number;
  deleting: boolean;
  cpuRequest: number;
}

const podSeed: fc.Arbitrary<PodSeed> = fc.record({
  phase: fc.constantFrom<PodInfo["phase"]>(
    "Running",
    "Running",
    "Running",
    "Running",
    "Pending",
    "Failed",
    "Succeeded",
  ),
  ready: fc.constantFrom<boolean | null>(true, true, true, false, null),
  startAgoSec: fc.integer({ min: 0, max: 3600 }),
  readyAgoSec: fc.integer({ min: 0, max: 3600 }),
  deleting: fc.constantFrom(false, false, false, false, true),
  cpuRequest: fc.integer({ min: 1, max: 2000 }),
});

function toPod(seed: PodSeed, i: number): PodInfo {
  return {
    name: `p${i}`,
    phase: seed.phase,
    ready: seed.ready,
    startTime: NOW - seed.startAgoSec * 1000,
    readyTransitionTime: NOW - seed.readyAgoSec * 1000,
    deleting: seed.deleting,
    containers: [
      { name: "app", requests: { cpu: seed.cpuRequest, memory: 256 * 2 ** 20 * 1000 } },
      { name: "agent", init: true, restartPolicyAlways: true, requests: { cpu: 10, memory: 2 ** 20 * 1000 } },
    ],
  };
}

/** A healthy pod: Running, Ready for long, past cpu initialization. */
const healthyPod = (i: number, cpuRequest = 500): PodInfo =>
  toPod(
    { phase: "Running", ready: true, startAgoSec: 3600, readyAgoSec: 3500, deleting: false, cpuRequest },
    i,
  );

const target = (milli: number) => `${milli}m`;

const metricSpec: fc.Arbitrary<MetricSpec> = fc.oneof(
  fc.integer({ min: 1, max: 20_000 }).map(
    (t): MetricSpec => ({
      type: "Signal",
      signal: { name: "inflight", target: { type: "AverageValue", averageValue: target(t) } },
    }),
  ),
  fc.integer({ min: 1, max: 100_000 }).map(
    (t): MetricSpec => ({
      type: "Pods",
      pods: { metric: { name: "rps" }, target: { type: "AverageValue", averageValue: target(t) } },
    }),
  ),
  fc.integer({ min: 1, max: 300 }).map(
    (u): MetricSpec => ({
      type: "Resource",
      resource: { name: "cpu", target: { type: "Utilization", averageUtilization: u } },
    }),
  ),
  fc.integer({ min: 1, max: 2000 }).map(
    (t): MetricSpec => ({
      type: "Resource",
      resource: { name: "cpu", target: { type: "AverageValue", averageValue: target(t) } },
    }),
  ),
  fc.integer({ min: 1, max: 300 }).map(
    (u): MetricSpec => ({
      type: "ContainerResource",
      containerResource: {
        name: "cpu",
        container: "app",
        target: { type: "Utilization", averageUtilization: u },
      },
    }),
  ),
  fc
    .tuple(
      fc.constantFrom<"Value" | "AverageValue">("Value", "AverageValue"),
      fc.integer({ min: 1, max: 100_000 }),
    )
    .map(
      ([type, t]): MetricSpec => ({
        type: "Object",
        object: {
          describedObject: { kind: "Queue", name: "jobs" },
          metric: { name: "depth" },
          target: type === "Value" ? { type, value: target(t) } : { type, averageValue: target(t) },
        },
      }),
    ),
  fc
    .tuple(
      fc.constantFrom<"Value" | "AverageValue">("Value", "AverageValue"),
      fc.integer({ min: 1, max: 100_000 }),
    )
    .map(
      ([type, t]): MetricSpec => ({
        type: "External",
        external: {
          metric: { name: "lag" },
          target: type === "Value" ? { type, value: target(t) } : { type, averageValue: target(t) },
        },
      }),
    ),
);

/** Per-pod values (undefined = no sample) and a whole-metric value, for one metric. */
interface Load {
  perPod: (number | undefined)[];
  whole: number;
}

function sampleOf(value: number, window: number): PodSample {
  return { value, timestamp: NOW - 500, window, containers: { app: value, agent: 0 } };
}

function valuesFor(spec: MetricSpec, pods: PodInfo[], load: Load): MetricValues {
  switch (spec.type) {
    case "Object":
      return { objectValue: load.whole };
    case "External":
      return { externalValues: [load.whole] };
    default: {
      const m = new Map<string, PodSample>();
      pods.forEach((p, i) => {
        const v = load.perPod[i];
        if (v !== undefined) m.set(p.name, sampleOf(v, 60_000));
      });
      return { podSamples: m };
    }
  }
}

const rules: fc.Arbitrary<HPAScalingRules> = fc.record(
  {
    stabilizationWindowSeconds: fc.integer({ min: 0, max: 600 }),
    selectPolicy: fc.constantFrom<"Max" | "Min" | "Disabled">("Max", "Max", "Min", "Disabled"),
    policies: fc.array(
      fc.record({
        type: fc.constantFrom<"Pods" | "Percent">("Pods", "Percent"),
        value: fc.integer({ min: 1, max: 300 }),
        periodSeconds: fc.integer({ min: 1, max: 1800 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    tolerance: fc.constantFrom("0", "0.05", "0.1", "0.3"),
  },
  { requiredKeys: [] },
);

const behavior: fc.Arbitrary<HorizontalPodAutoscalerBehavior | undefined> = fc.option(
  fc.record({ scaleUp: rules, scaleDown: rules }, { requiredKeys: [] }),
  { nil: undefined },
);

const EMPTY_STATE: AutoscalerState = { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] };

/** No history yet, an empty one (nothing holds), or a random one. */
const state: fc.Arbitrary<AutoscalerState | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constant(EMPTY_STATE),
  fc.record({
    recommendations: fc.option(
      fc.array(
        fc.record({
          replicas: fc.integer({ min: 0, max: 60 }),
          at: fc.integer({ min: NOW - 900_000, max: NOW }),
        }),
        { maxLength: 12 },
      ),
      { nil: null },
    ),
    scaleUpEvents: fc.array(
      fc.record({
        replicaChange: fc.integer({ min: 1, max: 20 }),
        at: fc.integer({ min: NOW - 2_000_000, max: NOW }),
        outdated: fc.boolean(),
      }),
      { maxLength: 5 },
    ),
    scaleDownEvents: fc.array(
      fc.record({
        replicaChange: fc.integer({ min: 1, max: 20 }),
        at: fc.integer({ min: NOW - 2_000_000, max: NOW }),
        outdated: fc.boolean(),
      }),
      { maxLength: 5 },
    ),
  }),
);

const bounds = fc
  .tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 30 }))
  .map(([min, span]) => ({ min, max: Math.max(1, min + span) }));

/** Often nothing at all, so that proposals reach the bounds. */
const amount = (max: number) =>
  fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max }));

/** Per-pod and whole-metric loads; one in four is idle everywhere, to reach the lower bound. */
const load = (pods: number): fc.Arbitrary<Load> =>
  fc.oneof(
    { arbitrary: fc.constant({ perPod: new Array<number>(pods).fill(0), whole: 0 }), weight: 1 },
    {
      arbitrary: fc.record({
        perPod: fc.array(fc.option(amount(200_000), { nil: undefined, freq: 6 }), {
          minLength: pods,
          maxLength: pods,
        }),
        whole: amount(3_000_000),
      }),
      weight: 3,
    },
  );

/** Anything goes: pods in every state, failing metrics, any history. */
const anyScenario = fc
  .record({
    bounds,
    current: fc.integer({ min: 0, max: 40 }),
    status: fc.integer({ min: 0, max: 40 }),
    pods: fc.array(podSeed, { maxLength: 12 }),
    specs: fc.array(metricSpec, { minLength: 1, maxLength: 3 }),
    behavior,
    state,
    failing: fc.array(fc.constantFrom("ok", "ok", "ok", "error", "empty", "absent"), {
      minLength: 3,
      maxLength: 3,
    }),
  })
  .chain((s) =>
    fc.record({
      s: fc.constant(s),
      loads: fc.array(load(s.pods.length), { minLength: s.specs.length, maxLength: s.specs.length }),
    }),
  );

function scenarioInput(
  s: {
    bounds: { min: number; max: number };
    current: number;
    status: number;
    specs: MetricSpec[];
    behavior: HorizontalPodAutoscalerBehavior | undefined;
  },
  pods: PodInfo[],
  metrics: (MetricValues | undefined)[],
): DecisionInput {
  const input: DecisionInput = {
    workload: "w",
    policy: { minReplicas: s.bounds.min, maxReplicas: s.bounds.max, metrics: s.specs },
    scale: { specReplicas: s.current, statusReplicas: s.status },
    pods,
    metrics,
  };
  if (s.behavior) input.policy.behavior = s.behavior;
  return input;
}

function spoil(values: MetricValues, how: string): MetricValues | undefined {
  switch (how) {
    case "error":
      return { error: "source down" };
    case "empty":
      return { podSamples: new Map(), externalValues: [] };
    case "absent":
      return undefined;
    case "garbage": {
      // Every value unreadable: NaN and infinities must read as missing data.
      const podSamples = new Map<string, PodSample>();
      for (const [name, sample] of values.podSamples ?? []) {
        podSamples.set(name, { ...sample, value: Number.NaN, containers: { app: Number.POSITIVE_INFINITY } });
      }
      return { podSamples, objectValue: Number.NaN, externalValues: [Number.POSITIVE_INFINITY, 1] };
    }
    default:
      return values;
  }
}

// ---------------------------------------------------------------------------------------------------
// Properties

describe("decision properties", () => {
  it("keeps the result within [minReplicas, maxReplicas] (except while scaling is disabled at 0)", () => {
    fc.assert(
      fc.property(anyScenario, ({ s, loads }) => {
        const pods = s.pods.map(toPod);
        const metrics = s.specs.map((spec, i) =>
          spoil(valuesFor(spec, pods, loads[i] as Load), s.failing[i] as string),
        );
        const { decision, state: next } = decide(scenarioInput(s, pods, metrics), s.state, NOW);
        expect(Number.isInteger(decision.desiredReplicas)).toBe(true);
        if (s.current === 0 && s.bounds.min !== 0) {
          expect(decision.desiredReplicas).toBe(0);
        } else {
          expect(decision.desiredReplicas).toBeGreaterThanOrEqual(s.bounds.min);
          expect(decision.desiredReplicas).toBeLessThanOrEqual(s.bounds.max);
        }
        expect(decision.rescale).toBe(decision.desiredReplicas !== s.current);
        expect(JSON.parse(JSON.stringify(next))).toEqual(next);
      }),
      { numRuns: 1500 },
    );
  });

  it("never scales down while a metric has no data (error, nothing returned, no samples, unreadable values)", () => {
    fc.assert(
      fc.property(
        anyScenario,
        fc.nat(),
        fc.constantFrom("error", "empty", "absent", "garbage"),
        ({ s, loads }, which, how) => {
          fc.pre(s.current >= Math.max(1, s.bounds.min) && s.current <= s.bounds.max);
          const pods = s.pods.map(toPod);
          const broken = which % s.specs.length;
          const metrics = s.specs.map((spec, i) =>
            spoil(valuesFor(spec, pods, loads[i] as Load), i === broken ? how : (s.failing[i] as string)),
          );
          const { decision } = decide(scenarioInput(s, pods, metrics), s.state, NOW);
          expect(decision.desiredReplicas).toBeGreaterThanOrEqual(s.current);
        },
      ),
      { numRuns: 1500 },
    );
  });

  const perPodSpec = metricSpec.filter((m) => m.type !== "Object" && m.type !== "External");

  /** What upstream assumes for a pod without data on a scale-down: the target (or max(100%, target) of its request). */
  function busyValue(spec: MetricSpec, pod: PodInfo): number {
    const app = pod.containers?.[0]?.requests?.cpu ?? 0;
    switch (spec.type) {
      case "Resource":
        if (spec.resource.target.type === "Utilization") {
          const u = spec.resource.target.averageUtilization as number;
          return Math.trunc(((app + 10) * Math.max(100, u)) / 100);
        }
        return Number.parseInt(String(spec.resource.target.averageValue), 10);
      case "ContainerResource": {
        const u = spec.containerResource.target.averageUtilization as number;
        return Math.trunc((app * Math.max(100, u)) / 100);
      }
      case "Signal":
        return Number.parseInt(String(spec.signal.target.averageValue), 10);
      case "Pods":
        return Number.parseInt(String(spec.pods.target.averageValue), 10);
      default:
        throw new Error("not a per-pod metric");
    }
  }

  it("never reads a pod without data as idle; below target it weighs like a busy pod (at the target)", () => {
    fc.assert(
      fc.property(
        perPodSpec,
        fc.integer({ min: 2, max: 15 }),
        fc.array(amount(200_000), { minLength: 15, maxLength: 15 }),
        fc.array(fc.boolean(), { minLength: 15, maxLength: 15 }),
        fc.array(fc.integer({ min: 50, max: 2000 }), { minLength: 15, maxLength: 15 }),
        fc.constantFrom(0, 0.05, 0.1, 0.5),
        (spec, n, values, missing, requests, tol) => {
          fc.pre(missing.slice(0, n).some((m) => !m) && missing.slice(0, n).some((m) => m));
          const pods = Array.from({ length: n }, (_, i) => healthyPod(i, requests[i]));
          const ctx = (list: PodInfo[]) => ({
            specReplicas: n,
            statusReplicas: n,
            pods: list,
            now: NOW,
            timing: { cpuInitializationPeriodMs: 300_000, delayOfInitialReadinessStatusMs: 30_000 },
            tolerances: { scaleUp: tol, scaleDown: tol },
          });
          const propose = (perPod: (number | undefined)[], list = pods) =>
            computeReplicasForMetric(spec, valuesFor(spec, list, { perPod, whole: 0 }), ctx(list));
          const own = values.slice(0, n);
          const withGaps = propose(own.map((v, i) => (missing[i] ? undefined : v)));
          const asZero = propose(own.map((v, i) => (missing[i] ? 0 : v)));
          const asBusy = propose(own.map((v, i) => (missing[i] ? busyValue(spec, pods[i] as PodInfo) : v)));
          const reported = pods.filter((_, i) => !missing[i]);
          const alone = propose(
            own.filter((_, i) => !missing[i]),
            reported,
          );
          expect(withGaps.replicas).toBeDefined();
          expect(withGaps.replicas as number).toBeGreaterThanOrEqual(asZero.replicas as number);
          // Below target, a pod without data weighs like a busy one; it may hold the size but never raise it.
          if (alone.ratio !== undefined && alone.ratio < 1) {
            expect(withGaps.replicas as number).toBeGreaterThanOrEqual(
              Math.min(n, asBusy.replicas as number),
            );
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it("is monotone in load: more load on any pod or metric never asks for fewer replicas", () => {
    const scenario = fc
      .record({
        bounds,
        extra: fc.integer({ min: 0, max: 10 }),
        specs: fc.array(metricSpec, { minLength: 1, maxLength: 3 }),
        behavior,
        state,
        requests: fc.array(fc.integer({ min: 50, max: 2000 }), { minLength: 40, maxLength: 40 }),
      })
      .chain((s) => {
        const current = Math.max(1, s.bounds.min) + s.extra;
        return fc.record({
          s: fc.constant({ ...s, current, status: current }),
          before: fc.array(load(current), { minLength: s.specs.length, maxLength: s.specs.length }),
          more: fc.array(
            fc.record({
              perPod: fc.array(fc.integer({ min: 0, max: 50_000 }), {
                minLength: current,
                maxLength: current,
              }),
              whole: fc.integer({ min: 0, max: 500_000 }),
            }),
            { minLength: s.specs.length, maxLength: s.specs.length },
          ),
        });
      });
    fc.assert(
      fc.property(scenario, ({ s, before, more }) => {
        // Healthy pods, as many as the scale says; the same pods lack data in both runs.
        const pods = Array.from({ length: s.current }, (_, i) => healthyPod(i, s.requests[i]));
        const after: Load[] = before.map((l, m) => ({
          perPod: l.perPod.map((v, i) => (v === undefined ? undefined : v + (more[m]?.perPod[i] ?? 0))),
          whole: l.whole + (more[m]?.whole ?? 0),
        }));
        const run = (loads: Load[]) =>
          decide(
            scenarioInput(
              s,
              pods,
              s.specs.map((spec, i) => valuesFor(spec, pods, loads[i] as Load)),
            ),
            s.state,
            NOW,
          ).decision.desiredReplicas;
        const low = run(before);
        const high = run(after);
        expect(high).toBeGreaterThanOrEqual(low);
        for (const r of [low, high]) {
          expect(r).toBeGreaterThanOrEqual(s.bounds.min);
          expect(r).toBeLessThanOrEqual(s.bounds.max);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
