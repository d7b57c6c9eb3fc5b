import { describe, expect, it } from "vitest";
import { prng } from "../../../test/support/prng.js";
import { BurstHeadroom, validateBurstHeadroom } from "./burst-headroom.js";
import { DemandFloors, learnedFrom } from "./demand-floors.js";
import { decide } from "./pipeline.js";
import type { DecisionInput, MetricSpec, PodInfo, ScalingPolicySpec } from "./types.js";

const T0 = Date.UTC(2026, 0, 5);
const RPS: MetricSpec = {
  type: "Signal",
  signal: { name: "rps", target: { type: "AverageValue", averageValue: "85" } },
};

function policy(extra: Partial<ScalingPolicySpec> = {}): ScalingPolicySpec {
  return {
    minReplicas: 1,
    maxReplicas: 100,
    metrics: [RPS],
    behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
    burstHeadroom: { capacityPerPod: "90", sigmas: 3, windowSeconds: 60 },
    ...extra,
  };
}

function pods(n: number): PodInfo[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `p${i}`,
    phase: "Running" as const,
    ready: true,
    startTime: T0 - 3_600_000,
    readyTransitionTime: T0 - 3_600_000,
  }));
}

/** `replicas` pods sharing `total` req/s; `reporting` of them have a sample. */
function input(spec: ScalingPolicySpec, replicas: number, total: number, at: number, reporting = replicas) {
  const p = pods(replicas);
  const samples = p
    .slice(0, reporting)
    .map((pod) => [pod.name, { value: Math.round((total / replicas) * 1000), timestamp: at, window: 1000 }]);
  return {
    workload: "shop",
    policy: spec,
    scale: { specReplicas: replicas, statusReplicas: replicas },
    pods: p,
    metrics: [
      { podSamples: new Map(samples as [string, { value: number; timestamp: number; window: number }][]) },
    ],
  } satisfies DecisionInput;
}

/** Demand alternating mean ± amplitude each second: sample standard deviation ≈ amplitude. */
const alternating = (s: number, mean: number, amplitude: number) =>
  mean + (s % 2 === 0 ? amplitude : -amplitude);

describe("burst headroom", () => {
  it("names each bad field", () => {
    const problems = validateBurstHeadroom(
      { sigmas: 11, windowSeconds: 5, capacityPerPod: "ninety", metric: "queue", extra: 1 },
      policy(),
    );
    expect(problems).toEqual([
      "spec.burstHeadroom.extra: unknown field; expected one of metric, capacityPerPod, sigmas, windowSeconds",
      "spec.burstHeadroom.sigmas: must be a number from 0 to 10",
      "spec.burstHeadroom.windowSeconds: must be an integer from 10 to 3600",
      'spec.burstHeadroom.capacityPerPod: must be a positive quantity such as "500m", "4" or "2Gi", got "ninety"',
      'spec.burstHeadroom.metric: no metric named "queue" in the policy',
    ]);
    expect(validateBurstHeadroom([], policy())).toEqual(["spec.burstHeadroom: must be a mapping"]);
    expect(validateBurstHeadroom({ capacityPerPod: "-5" }, policy())[0]).toMatch(/capacityPerPod/);
    expect(validateBurstHeadroom({}, policy())).toEqual([]);
  });

  it("asks for the mean plus sigmas standard deviations at the capacity per pod", () => {
    const spec = policy();
    const h = new BurstHeadroom(spec);
    for (let s = 0; s < 60; s++)
      h.observe(input(spec, 10, alternating(s, 900, 60), T0 + s * 1000), T0 + s * 1000);
    const spread = h.spread(T0 + 59_000);
    expect(spread?.samples).toBe(60);
    expect(spread?.mean).toBeCloseTo(900_000, -1);
    expect(spread?.sd).toBeCloseTo(60_500, -3); // n − 1 in the denominator
    // (900 + 3 × 60.5) / 90 = 12.02 → 13
    const out = h.stage(T0 + 59_000).apply(10, input(spec, 10, 900, T0 + 59_000), T0 + 59_000);
    expect(out.replicas).toBe(13);
    expect(out.reason).toMatch(/signal rps 900 ± 60\.5 over 60 s: 3 σ above the mean needs 13 at 90\/pod/);
    // It is a floor: more replicas than it asks for stand.
    expect(h.stage(T0 + 59_000).apply(20, input(spec, 20, 900, T0), T0).replicas).toBe(20);
  });

  it("keeps the window's mean and deviation exact over a long run (running sums, no drift)", () => {
    const spec = policy({ burstHeadroom: { windowSeconds: 120 } });
    const h = new BurstHeadroom(spec);
    const rand = prng(7);
    const seen: { at: number; v: number }[] = [];
    let at = T0;
    for (let k = 0; k < 30_000; k++) {
      // Uneven spacing, levels from 0 to 50,000 req/s, and now and then a gap longer than the window.
      at += rand() < 0.001 ? 200_000 : 500 + Math.floor(rand() * 1500);
      const v = Math.round(50_000 * rand() ** 3);
      h.observe(input(spec, 10, v, at), at);
      seen.push({ at, v: v * 1000 });
      if (k % 997 !== 0) continue;
      const inWindow = seen.filter((x) => x.at >= at - 120_000).map((x) => x.v);
      const got = h.spread(at);
      if (inWindow.length < 10) {
        expect(got).toBeUndefined();
        continue;
      }
      const mean = inWindow.reduce((a, b) => a + b, 0) / inWindow.length;
      const sd = Math.sqrt(inWindow.reduce((a, b) => a + (b - mean) ** 2, 0) / (inWindow.length - 1));
      expect(got?.samples).toBe(inWindow.length);
      expect(Math.abs((got?.mean ?? 0) - mean)).toBeLessThan(1e-6 * mean + 1e-6);
      expect(Math.abs((got?.sd ?? 0) - sd)).toBeLessThan(1e-6 * mean + 1e-3);
    }
  });

  it("defaults the capacity per pod to the metric's target", () => {
    const spec = policy({ burstHeadroom: { sigmas: 0 } });
    const h = new BurstHeadroom(spec);
    for (let s = 0; s < 20; s++) h.observe(input(spec, 10, 850, T0 + s * 1000), T0 + s * 1000);
    expect(h.stage(T0 + 19_000).apply(1, input(spec, 10, 850, T0), T0).replicas).toBe(10);
  });

  it("does nothing on too few samples, and forgets what left the window", () => {
    const spec = policy();
    const h = new BurstHeadroom(spec);
    for (let s = 0; s < 9; s++) h.observe(input(spec, 10, 900, T0 + s * 1000), T0 + s * 1000);
    const early = h.stage(T0 + 9_000).apply(1, input(spec, 10, 900, T0), T0);
    expect(early).toEqual({ replicas: 1, reason: "fewer than 10 samples in the last 60 s" });
    h.observe(input(spec, 10, 900, T0 + 9_000), T0 + 9_000);
    expect(h.stage(T0 + 9_000).apply(1, input(spec, 10, 900, T0), T0).replicas).toBe(10);
    // Two minutes without data (agents gone): the old demand no longer holds the count up, and the
    // lack of data is not read as zero demand either: the stage passes the metrics' proposal through.
    expect(h.stage(T0 + 130_000).apply(7, input(spec, 10, 900, T0), T0).replicas).toBe(7);
  });

  it("learns nothing when fewer than half the ready pods reported", () => {
    const spec = policy();
    const h = new BurstHeadroom(spec);
    for (let s = 0; s < 30; s++) h.observe(input(spec, 10, 900, T0 + s * 1000, 4), T0 + s * 1000);
    expect(h.spread(T0 + 29_000)).toBeUndefined();
    // Out-of-order samples are dropped, not inserted.
    for (let s = 0; s < 12; s++) h.observe(input(spec, 10, 900, T0 + s * 1000), T0 + s * 1000);
    h.observe(input(spec, 10, 5000, T0 + 5_000), T0 + 5_000);
    expect(h.spread(T0 + 11_000)?.samples).toBe(12);
    expect(h.spread(T0 + 11_000)?.sd).toBe(0);
  });

  it("raises a decision above the metrics' proposal, with its reason on the record", () => {
    const spec = policy();
    const floors = new DemandFloors(spec);
    let state: ReturnType<typeof decide>["state"] | undefined;
    let replicas = 10;
    for (let s = 0; s < 60; s++) {
      const at = T0 + s * 1000;
      const i = { ...input(spec, replicas, alternating(s, 800, 80), at), stages: floors.stages(at) };
      const out = decide(i, state, at);
      state = out.state;
      replicas = out.decision.desiredReplicas;
      floors.observe(i, at);
    }
    // The rate alone asks for ceil(800 / 85) = 10; 800 + 3 × 80.7 = 1042 at 90 per pod needs 12.
    expect(replicas).toBe(12);
    const at = T0 + 60_000;
    const last = decide({ ...input(spec, 12, 800, at), stages: floors.stages(at) }, state, at).decision;
    const stage = last.stages.find((x) => x.stage === "burstHeadroom");
    expect(stage).toMatchObject({ from: 10, to: 12 });
    expect(stage?.reason).toMatch(/3 σ above the mean needs 12/);
    expect(last.summary).toMatch(/^held at 12: .*3 σ above the mean needs 12/);
  });

  it("what was learned is tied to the settings it was learned under", () => {
    expect(learnedFrom(policy())).toBe(learnedFrom(policy()));
    expect(learnedFrom(policy({ burstHeadroom: { sigmas: 4 } }))).not.toBe(learnedFrom(policy()));
    expect(new DemandFloors(policy({ burstHeadroom: undefined })).stages(T0)).toEqual([]);
  });
});
