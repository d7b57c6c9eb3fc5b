import { describe, expect, it } from "vitest";
import { prng } from "../../../test/support/prng.js";
import { decide } from "./pipeline.js";
import {
  forecastMetric,
  observedDemand,
  perPodTarget,
  validatePredictive,
  WorkloadForecast,
} from "./predictive.js";
import type { DecisionInput, MetricSpec, MetricValues, PodInfo, ScalingPolicySpec } from "./types.js";

const MIN = 60_000;
const DAY = 1440 * MIN;
const T0 = Date.UTC(2026, 0, 5);

const RPS: MetricSpec = {
  type: "Signal",
  signal: { name: "rps", target: { type: "AverageValue", averageValue: "100" } },
};
const INFLIGHT_VALUE: MetricSpec = {
  type: "External",
  external: { metric: { name: "queue" }, target: { type: "Value", value: "10" } },
};
const CPU_60: MetricSpec = {
  type: "Resource",
  resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } },
};

function policy(extra: Partial<ScalingPolicySpec> = {}): ScalingPolicySpec {
  return {
    minReplicas: 1,
    maxReplicas: 100,
    metrics: [RPS],
    behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
    predictive: { bucketSeconds: 300, horizonSeconds: 600, weekly: false },
    ...extra,
  };
}

function pods(n: number, cpuRequest = 500): PodInfo[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `p${i}`,
    phase: "Running" as const,
    ready: true,
    startTime: T0 - DAY,
    readyTransitionTime: T0 - DAY,
    containers: [{ name: "app", requests: { cpu: cpuRequest } }],
  }));
}

/** Every pod reports `perPod` req/s (milli-units in the samples). */
function rpsValues(p: PodInfo[], perPod: number, at: number): MetricValues {
  return {
    podSamples: new Map(
      p.map((pod) => [pod.name, { value: Math.round(perPod * 1000), timestamp: at, window: 1000 }]),
    ),
  };
}

/** Daily wave of total demand in req/s. */
const wave = (at: number) => 2000 + 1500 * Math.sin((2 * Math.PI * (at - T0)) / DAY);

function input(spec: ScalingPolicySpec, replicas: number, total: number, at: number): DecisionInput {
  const p = pods(replicas);
  return {
    workload: "shop",
    policy: spec,
    scale: { specReplicas: replicas, statusReplicas: replicas },
    pods: p,
    metrics: [rpsValues(p, total / replicas, at)],
  };
}

describe("predictive: validation and targets", () => {
  it("names each bad field", () => {
    const problems = validatePredictive(
      {
        horizonSeconds: 5,
        bucketSeconds: 7,
        weekly: "yes",
        maxErrorPercent: 0,
        metric: "nope",
        colour: 1,
        history: {},
      },
      policy(),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        "spec.predictive.colour: unknown field; expected one of enabled, metric, horizonSeconds, bucketSeconds, weekly, maxErrorPercent, history",
        "spec.predictive.weekly: must be true or false",
        "spec.predictive.horizonSeconds: must be an integer from 60 to 3600",
        "spec.predictive.bucketSeconds: must be an integer from 60 to 3600",
        "spec.predictive.maxErrorPercent: must be an integer from 1 to 1000",
        'spec.predictive.metric: no metric named "nope" in the policy',
        "spec.predictive.history: must be {prometheus: {query, lookbackDays}}",
      ]),
    );
    expect(validatePredictive({ bucketSeconds: 420 }, policy())).toEqual([
      "spec.predictive.bucketSeconds: must divide a day (86400) evenly",
    ]);
    expect(
      validatePredictive(
        { history: { prometheus: { query: " ", lookbackDays: 90 } } },
        policy(),
        "workloads[0].policy.predictive",
      ),
    ).toEqual([
      "workloads[0].policy.predictive.history.prometheus.query: must be a PromQL expression",
      "workloads[0].policy.predictive.history.prometheus.lookbackDays: must be an integer from 1 to 35",
    ]);
    expect(validatePredictive({ history: { prometheus: { query: "sum(rate(x[1m]))" } } }, policy())).toEqual(
      [],
    );
  });

  it("forecasts the named metric or the first with a per-pod target", () => {
    expect(forecastMetric(policy({ metrics: [INFLIGHT_VALUE, CPU_60, RPS] }))).toEqual({
      index: 1,
      spec: CPU_60,
    });
    expect(forecastMetric(policy({ metrics: [INFLIGHT_VALUE, CPU_60, RPS] }), "rps")).toEqual({
      index: 2,
      spec: RPS,
    });
    expect(forecastMetric(policy({ metrics: [INFLIGHT_VALUE] }), "queue")).toBe(
      "external queue has no AverageValue or Utilization target to divide a forecast by",
    );
    expect(forecastMetric(policy({ metrics: [INFLIGHT_VALUE] }))).toBe(
      "no metric with an AverageValue or Utilization target to forecast",
    );
  });

  it("converts with the metric's own target", () => {
    expect(perPodTarget(RPS, [])).toBe(100_000);
    // 60 % of a 500m request.
    expect(perPodTarget(CPU_60, pods(3, 500))).toBe(300);
    expect(perPodTarget(CPU_60, [])).toBeUndefined();
  });

  it("learns nothing from partial or missing data", () => {
    const p = pods(4);
    expect(observedDemand(RPS, rpsValues(p, 50, T0), p)).toBe(200_000);
    const half = rpsValues(p.slice(0, 1), 50, T0);
    expect(observedDemand(RPS, half, p)).toBeUndefined();
    expect(observedDemand(RPS, { error: "agent down" }, p)).toBeUndefined();
    expect(observedDemand(RPS, undefined, p)).toBeUndefined();
  });
});

describe("predictive floor in the pipeline", () => {
  /** Feeds two days of the wave, deciding each minute at the count the metric alone asks for. */
  function trained(spec: ScalingPolicySpec, demand: (at: number) => number = wave): WorkloadForecast {
    const wf = new WorkloadForecast(spec);
    for (let at = T0; at < T0 + 2 * DAY; at += MIN) {
      const total = demand(at);
      wf.observe(input(spec, Math.max(1, Math.ceil(total / 100)), total, at), at);
    }
    return wf;
  }

  it("raises the count before a rise the metrics do not see yet, with its reason", () => {
    const spec = policy();
    const wf = trained(spec);
    // The wave rises fastest at 00:00; 10 minutes later it is ~6.5 % higher.
    const now = T0 + 2 * DAY;
    const status = wf.status(now);
    expect(status.state).toBe("Active");
    const current = Math.ceil(wave(now) / 100);
    const r = decide({ ...input(spec, current, wave(now), now), stages: [wf.stage(now)] }, undefined, now);
    const floor = r.decision.stages.find((s) => s.stage === "predictive");
    expect(floor).toBeDefined();
    expect(r.decision.desiredReplicas).toBeGreaterThan(current);
    expect(r.decision.desiredReplicas).toBeGreaterThanOrEqual(Math.ceil(wave(now + 9 * MIN) / 100));
    expect(floor?.reason).toMatch(
      /^forecast [\d.,k]+ of signal rps within 10 min at 100\/pod needs \d+ \(backtest MAPE [\d.]+ %\)$/,
    );
  });

  it("is only a floor: a higher metric proposal stands", () => {
    const spec = policy();
    const wf = trained(spec);
    const now = T0 + 2 * DAY;
    const r = decide({ ...input(spec, 10, 9000, now), stages: [wf.stage(now)] }, undefined, now);
    expect(r.decision.stages[0]).toMatchObject({ stage: "metrics", to: 90 });
    expect(r.decision.stages.some((s) => s.stage === "predictive")).toBe(false);
  });

  it("switches itself off when the backtest error is above maxErrorPercent", () => {
    let level = 1000;
    let bucket = -1;
    const random = prng(3);
    const erratic = (at: number) => {
      const b = Math.floor(at / (5 * MIN));
      if (b !== bucket) {
        bucket = b;
        level = 200 + 5000 * random();
      }
      return level;
    };
    const spec = policy({
      predictive: { bucketSeconds: 300, horizonSeconds: 600, weekly: false, maxErrorPercent: 25 },
    });
    const wf = trained(spec, erratic);
    const now = T0 + 2 * DAY;
    const status = wf.status(now);
    expect(status.state).toBe("PoorForecast");
    expect(status.message).toMatch(/^forecast off: backtest MAPE [\d.]+ % is above 25 %$/);
    const r = decide({ ...input(spec, 2, 100, now), stages: [wf.stage(now)] }, undefined, now);
    expect(r.decision.stages.some((s) => s.stage === "predictive")).toBe(false);
  });

  it("does nothing while learning or when switched off", () => {
    const spec = policy();
    const wf = new WorkloadForecast(spec);
    expect(wf.status(T0).state).toBe("Learning");
    expect(wf.stage(T0).apply(3, input(spec, 3, 300, T0), T0).replicas).toBe(3);
    const off = new WorkloadForecast(policy({ predictive: { enabled: false } }));
    expect(off.status(T0)).toEqual({ state: "Disabled", message: "predictive.enabled is false" });
  });

  it("warms from history in the metric's plain units", () => {
    const spec = policy();
    const wf = new WorkloadForecast(spec);
    const t: number[] = [];
    const v: number[] = [];
    for (let at = T0; at < T0 + 3 * DAY; at += MIN) {
      t.push(at);
      v.push(wave(at));
    }
    wf.warm(t, v);
    const now = T0 + 3 * DAY;
    const status = wf.status(now);
    expect(status.state).toBe("Active");
    // The forecast is in milli-units: ~3,450 req/s peak within the next 10 minutes.
    expect((status.forecast as number) / 1000).toBeGreaterThan(wave(now + 8 * MIN) * 0.97);
    expect((status.forecast as number) / 1000).toBeLessThan(wave(now + 10 * MIN) * 1.03);
  });
});
