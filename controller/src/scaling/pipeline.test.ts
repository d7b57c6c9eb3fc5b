import { describe, expect, it } from "vitest";
import { effectiveMetrics } from "./metrics.js";
import { decide, withFailedRescale, withoutScale } from "./pipeline.js";
import type {
  AutoscalerState,
  DecisionInput,
  MetricSpec,
  MetricValues,
  PodInfo,
  PodSample,
  ScalingPolicySpec,
} from "./types.js";

const NOW = 1_700_000_000_000;
const EMPTY: AutoscalerState = { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] };

function pod(name: string, extra: Partial<PodInfo> = {}): PodInfo {
  return {
    name,
    phase: "Running",
    ready: true,
    startTime: NOW - 3_600_000,
    readyTransitionTime: NOW - 3_590_000,
    containers: [{ name: "app", requests: { cpu: 500 } }],
    ...extra,
  };
}

/** Samples by pod name; undefined values are left out (missing). */
function samples(values: Record<string, number | undefined>): MetricValues {
  const m = new Map<string, PodSample>();
  for (const [name, v] of Object.entries(values)) {
    if (v !== undefined) m.set(name, { value: v, timestamp: NOW - 1000, window: 1000 });
  }
  return { podSamples: m };
}

const inflight = (averageValue: string | number = "4"): MetricSpec => ({
  type: "Signal",
  signal: { name: "inflight", target: { type: "AverageValue", averageValue } },
});
const cpu = (averageUtilization: number): MetricSpec => ({
  type: "Resource",
  resource: { name: "cpu", target: { type: "Utilization", averageUtilization } },
});

function input(
  policy: Partial<ScalingPolicySpec>,
  replicas: number,
  pods: PodInfo[],
  metrics: MetricValues[],
  extra: Partial<DecisionInput> = {},
): DecisionInput {
  return {
    workload: "web",
    policy: { maxReplicas: 10, ...policy },
    scale: { specReplicas: replicas, statusReplicas: replicas },
    pods,
    metrics,
    ...extra,
  };
}

const reasons = (d: { conditions: { type: string; status: string; reason: string }[] }) =>
  d.conditions.map((c) => `${c.type}=${c.status}:${c.reason}`);

describe("decide: the Signal metric", () => {
  it("scales up on in-flight requests per pod, like a Pods AverageValue metric", () => {
    const { decision } = decide(
      input(
        { metrics: [inflight()], behavior: {} },
        2,
        [pod("a"), pod("b")],
        [samples({ a: 9000, b: 10200 })],
      ),
      undefined,
      NOW,
    );
    expect(decision.desiredReplicas).toBe(5);
    expect(decision.rescale).toBe(true);
    expect(decision.summary).toBe("2 → 5: signal inflight 9.6/pod vs 4/pod");
    expect(decision.proposals).toEqual([
      {
        metric: "signal inflight",
        type: "Signal",
        replicas: 5,
        current: "9.6/pod",
        target: "4/pod",
        ratio: 2.4,
        pods: { ready: 2, unready: 0, missing: 0, ignored: 0 },
      },
    ]);
    expect(reasons(decision)).toEqual([
      "AbleToScale=True:SucceededRescale",
      "ScalingActive=True:ValidMetricFound",
      "ScalingLimited=False:DesiredWithinRange",
    ]);
  });

  it("softens a scale-down with pods that have not reported: they count at the target", () => {
    const pods = [pod("a"), pod("b"), pod("c"), pod("d")];
    const { decision } = decide(
      input({ metrics: [inflight()] }, 4, pods, [samples({ a: 1000, b: 1000 })]),
      EMPTY,
      NOW,
    );
    // Alone, 1/pod would ask for 1 replica; with c and d at 4/pod the mean is 2.5/pod → 3.
    expect(decision.desiredReplicas).toBe(3);
    expect(decision.stages[0]?.reason).toBe("signal inflight 1/pod vs 4/pod (2 of 4 pods without data)");
  });

  it("does not let unready pods push a scale-up: pending pods count as idle", () => {
    const pods = [pod("a"), pod("b"), pod("c", { phase: "Pending", ready: false })];
    const { decision } = decide(
      input({ metrics: [inflight()] }, 3, pods, [samples({ a: 8000, b: 8000 })]),
      EMPTY,
      NOW,
    );
    // 8/pod over 2 ready pods; the pending one counts as 0: mean 16/3 → ratio 1.33 → ceil(4) = 4.
    expect(decision.desiredReplicas).toBe(4);
  });

  it("leaves out deleted and failed pods entirely", () => {
    const pods = [pod("a"), pod("b", { deleting: true }), pod("c", { phase: "Failed" })];
    const { decision } = decide(
      input({ metrics: [inflight()] }, 3, pods, [samples({ a: 8000 })]),
      EMPTY,
      NOW,
    );
    expect(decision.proposals[0]?.pods).toEqual({ ready: 1, unready: 0, missing: 0, ignored: 2 });
    expect(decision.desiredReplicas).toBe(2);
  });

  it("reads a non-finite sample as missing, never as a reason to scale down", () => {
    const pods = [pod("a"), pod("b")];
    const garbled: MetricValues = {
      podSamples: new Map([
        ["a", { value: Number.NaN, timestamp: NOW, window: 1000 }],
        ["b", { value: Number.POSITIVE_INFINITY, timestamp: NOW, window: 1000 }],
      ]),
    };
    const { decision } = decide(input({ metrics: [inflight()] }, 2, pods, [garbled]), EMPTY, NOW);
    expect(decision.desiredReplicas).toBe(2);
    expect(decision.proposals[0]?.error).toBe(
      "did not receive metrics for targeted pods (pods might be unready)",
    );
  });

  it("holds when no pod has reported the signal", () => {
    const { decision } = decide(input({ metrics: [inflight()] }, 3, [pod("a")], [samples({})]), EMPTY, NOW);
    expect(decision.desiredReplicas).toBe(3);
    expect(decision.rescale).toBe(false);
    expect(reasons(decision)).toEqual([
      "AbleToScale=True:SucceededGetScale",
      "ScalingActive=False:FailedGetSignalMetric",
    ]);
    expect(decision.summary).toBe(
      "held at 3: no metric could be computed; signal inflight failed: unable to get signal inflight: no pod has reported it",
    );
  });
});

describe("decide: several metrics", () => {
  const pods = [pod("a"), pod("b")];
  const cpuValues = (v: number): MetricValues => ({
    podSamples: new Map([
      ["a", { value: v, timestamp: NOW - 1000, window: 60_000 }],
      ["b", { value: v, timestamp: NOW - 1000, window: 60_000 }],
    ]),
  });

  it("takes the largest proposal and records every one", () => {
    const { decision } = decide(
      input({ metrics: [inflight(), cpu(50)] }, 2, pods, [samples({ a: 4000, b: 4000 }), cpuValues(500)]),
      EMPTY,
      NOW,
    );
    expect(decision.proposals.map((p) => p.replicas)).toEqual([2, 4]);
    expect(decision.proposals[1]?.current).toBe("100%");
    expect(decision.desiredReplicas).toBe(4);
    expect(decision.summary).toBe("2 → 4: resource cpu 100% vs 50%");
  });

  it("does not scale down while one metric fails", () => {
    const { decision } = decide(
      input(
        { metrics: [inflight(), cpu(50)] },
        4,
        [...pods, pod("c"), pod("d")],
        [samples({ a: 100, b: 100, c: 100, d: 100 }), { error: "metrics-server unavailable" }],
      ),
      EMPTY,
      NOW,
    );
    expect(decision.desiredReplicas).toBe(4);
    expect(reasons(decision)).toEqual([
      "AbleToScale=True:SucceededGetScale",
      "ScalingActive=False:FailedGetResourceMetric",
    ]);
    expect(decision.summary).toBe(
      "held at 4: no scale-down while a metric is failing; resource cpu failed: unable to get metrics for resource cpu: metrics-server unavailable",
    );
    expect(decision.proposals[0]?.replicas).toBe(1);
  });

  it("still scales up while one metric fails, and says which", () => {
    const { decision } = decide(
      input({ metrics: [inflight(), cpu(50)] }, 2, pods, [
        samples({ a: 8000, b: 8000 }),
        { error: "timeout" },
      ]),
      EMPTY,
      NOW,
    );
    expect(decision.desiredReplicas).toBe(4);
    expect(reasons(decision)).toContain("ScalingActive=True:ValidMetricFound");
    expect(decision.summary).toBe(
      "2 → 4: signal inflight 8/pod vs 4/pod; resource cpu failed: unable to get metrics for resource cpu: timeout",
    );
  });

  it("reports an unknown metric type as InvalidMetricSourceType", () => {
    const { decision } = decide(
      input({ metrics: [inflight(), { type: "Cheddar" } as unknown as MetricSpec] }, 2, pods, [
        samples({ a: 1000, b: 1000 }),
        {},
      ]),
      EMPTY,
      NOW,
    );
    expect(reasons(decision)).toContain("ScalingActive=False:InvalidMetricSourceType");
    expect(decision.proposals[1]?.error).toBe('unknown metric source type "Cheddar"');
  });

  it("defaults to cpu at 80% when the policy lists no metrics", () => {
    expect(effectiveMetrics({ maxReplicas: 3 })).toEqual([cpu(80)]);
    expect(effectiveMetrics({ maxReplicas: 3, metrics: [] })).toEqual([cpu(80)]);
    const { decision } = decide(input({}, 2, pods, [cpuValues(800)]), EMPTY, NOW);
    expect(decision.proposals[0]?.metric).toBe("resource cpu");
    expect(decision.desiredReplicas).toBe(4);
  });
});

describe("decide: resource requests", () => {
  it("sums sidecar init containers' requests but not plain init containers'", () => {
    const p = pod("a", {
      containers: [
        { name: "app", requests: { cpu: 500 } },
        { name: "proxy", init: true, restartPolicyAlways: true, requests: { cpu: 100 } },
        { name: "migrate", init: true, requests: { cpu: 1000 } },
      ],
    });
    const values: MetricValues = {
      podSamples: new Map([["a", { value: 330, timestamp: NOW - 1000, window: 60_000 }]]),
    };
    const { decision } = decide(input({ metrics: [cpu(50)] }, 1, [p], [values]), EMPTY, NOW);
    expect(decision.proposals[0]?.current).toBe("55%");
  });

  it("fails the metric, naming the container, when a request is missing", () => {
    const p = pod("a", { containers: [{ name: "app", requests: {} }] });
    const values: MetricValues = {
      podSamples: new Map([["a", { value: 330, timestamp: NOW - 1000, window: 60_000 }]]),
    };
    const { decision } = decide(input({ metrics: [cpu(50)] }, 1, [p], [values]), EMPTY, NOW);
    expect(decision.proposals[0]?.error).toBe("missing request for cpu in container app of Pod a");
  });

  it("uses pod-level requests when set and no container is named", () => {
    const p = pod("a", { podRequests: { cpu: 1000 } });
    const values: MetricValues = {
      podSamples: new Map([["a", { value: 330, timestamp: NOW - 1000, window: 60_000 }]]),
    };
    const { decision } = decide(input({ metrics: [cpu(50)] }, 1, [p], [values]), EMPTY, NOW);
    expect(decision.proposals[0]?.current).toBe("33%");
  });
});

describe("decide: shortcuts and conditions", () => {
  it("does nothing while the target has 0 replicas and minReplicas is not 0", () => {
    const { decision } = decide(input({ metrics: [inflight()] }, 0, [], [samples({})]), undefined, NOW);
    expect(decision.desiredReplicas).toBe(0);
    expect(decision.rescale).toBe(false);
    expect(reasons(decision)).toEqual([
      "AbleToScale=True:SucceededGetScale",
      "ScalingActive=False:ScalingDisabled",
    ]);
  });

  it("brings a target above maxReplicas down to it without reading metrics", () => {
    const { decision } = decide(
      input({ maxReplicas: 4, metrics: [inflight()] }, 7, [], [{ error: "x" }]),
      undefined,
      NOW,
    );
    expect(decision.desiredReplicas).toBe(4);
    expect(reasons(decision)).toEqual(["AbleToScale=True:SucceededRescale"]);
    expect(decision.summary).toBe("7 → 4: above maxReplicas 4");
  });

  it("brings a target below minReplicas up to it", () => {
    const { decision } = decide(input({ minReplicas: 3, metrics: [inflight()] }, 1, [], []), undefined, NOW);
    expect(decision.desiredReplicas).toBe(3);
    expect(decision.summary).toBe("1 → 3: below minReplicas 3");
  });

  it("scales an Object metric from zero when minReplicas is 0", () => {
    const metric: MetricSpec = {
      type: "Object",
      object: {
        describedObject: { kind: "Queue", name: "jobs" },
        metric: { name: "depth" },
        target: { type: "Value", value: "100" },
      },
    };
    const { decision } = decide(
      input({ minReplicas: 0, metrics: [metric] }, 0, [], [{ objectValue: 250_000 }]),
      undefined,
      NOW,
    );
    expect(decision.desiredReplicas).toBe(3);
    expect(decision.summary).toBe("0 → 3: object depth of Queue/jobs 250 vs 100");
  });

  it("refuses an unusable policy instead of guessing", () => {
    const { decision } = decide(input({ minReplicas: 5, maxReplicas: 2 }, 3, [], []), undefined, NOW);
    expect(decision.rescale).toBe(false);
    expect(reasons(decision)).toContain("ScalingActive=False:InvalidPolicy");
    expect(decision.summary).toBe("held at 3: invalid policy: minReplicas 5 is above maxReplicas 2");
  });

  it("reports a selector problem and holds", () => {
    const { decision } = decide(
      input({ metrics: [inflight()] }, 2, [], [], {
        selectorProblem: { reason: "AmbiguousSelector", message: "pods are selected by another autoscaler" },
      }),
      undefined,
      NOW,
    );
    expect(reasons(decision)).toEqual([
      "AbleToScale=True:SucceededGetScale",
      "ScalingActive=False:AmbiguousSelector",
    ]);
  });
});

describe("decide: normalization and state", () => {
  const pods = (n: number) => Array.from({ length: n }, (_, i) => pod(`p${i}`));
  const load = (n: number, v: number) => samples(Object.fromEntries(pods(n).map((p) => [p.name, v])));

  it("holds the first decisions' scale-down for one window: no history means the current size was just recommended", () => {
    const { decision, state } = decide(
      input({ metrics: [inflight()] }, 5, pods(5), [load(5, 1000)]),
      undefined,
      NOW,
    );
    expect(decision.desiredReplicas).toBe(5);
    expect(decision.summary).toBe("held at 5: scale-down stabilized by a recommendation from 0 s ago");
    expect(reasons(decision)[0]).toBe("AbleToScale=True:ScaleDownStabilized");
    expect(state.recommendations).toEqual([
      { replicas: 5, at: NOW },
      { replicas: 2, at: NOW },
    ]);
    // Five minutes later the window has passed.
    const later = decide(input({ metrics: [inflight()] }, 5, pods(5), [load(5, 1000)]), state, NOW + 300_001);
    expect(later.decision.desiredReplicas).toBe(2);
  });

  it("without behavior caps a scale-up at max(2 × current, 4)", () => {
    const { decision } = decide(input({ metrics: [inflight()] }, 3, pods(3), [load(3, 40_000)]), EMPTY, NOW);
    expect(decision.desiredReplicas).toBe(6);
    expect(decision.stages.map((s) => s.stage)).toEqual(["metrics", "rate limit"]);
    expect(decision.summary).toBe(
      "3 → 6: signal inflight 40/pod vs 4/pod; scale-up limited to 6 (at most ×2 or 4 per decision)",
    );
    expect(reasons(decision)[2]).toBe("ScalingLimited=True:ScaleUpLimit");
  });

  it("with behavior limits by policy, records the event and counts it next time", () => {
    const policy: Partial<ScalingPolicySpec> = {
      maxReplicas: 50,
      metrics: [inflight()],
      behavior: { scaleUp: { policies: [{ type: "Pods", value: 2, periodSeconds: 60 }] } },
    };
    const first = decide(input(policy, 2, pods(2), [load(2, 20_000)]), EMPTY, NOW);
    expect(first.decision.desiredReplicas).toBe(4);
    expect(first.decision.summary).toBe(
      "2 → 4: signal inflight 20/pod vs 4/pod; scale-up limited to 4 by policy 2 pods per 60 s",
    );
    expect(first.state.scaleUpEvents).toEqual([{ replicaChange: 2, at: NOW, outdated: false }]);
    expect(first.state.lastScaleTime).toBe(NOW);
    // 30 s later the 2 pods added still count: the period started at 2 replicas, so 4 is the limit.
    const second = decide(input(policy, 4, pods(4), [load(4, 20_000)]), first.state, NOW + 30_000);
    expect(second.decision.desiredReplicas).toBe(4);
    expect(second.decision.rescale).toBe(false);
    expect(second.decision.summary).toBe("held at 4: scale-up limited to 4 by policy 2 pods per 60 s");
  });

  it("with behavior stabilizes a scale-up over the up window", () => {
    const policy: Partial<ScalingPolicySpec> = {
      metrics: [inflight()],
      behavior: { scaleUp: { stabilizationWindowSeconds: 60 } },
    };
    const state: AutoscalerState = {
      recommendations: [{ replicas: 2, at: NOW - 40_000 }],
      scaleUpEvents: [],
      scaleDownEvents: [],
    };
    const { decision } = decide(input(policy, 2, pods(2), [load(2, 8000)]), state, NOW);
    expect(decision.desiredReplicas).toBe(2);
    expect(decision.summary).toBe("held at 2: scale-up stabilized by a recommendation from 40 s ago");
    expect(reasons(decision)[0]).toBe("AbleToScale=True:ScaleUpStabilized");
  });

  it("applies per-direction tolerances from behavior", () => {
    const policy = (tolerance: string): Partial<ScalingPolicySpec> => ({
      metrics: [inflight()],
      behavior: { scaleUp: { tolerance } },
    });
    // 4.6/pod vs 4/pod is 15% over the target.
    const loose = decide(input(policy("0.2"), 4, pods(4), [load(4, 4600)]), EMPTY, NOW);
    expect(loose.decision.desiredReplicas).toBe(4);
    expect(loose.decision.summary).toBe("held at 4: signal inflight 4.6/pod vs 4/pod (within tolerance)");
    const tight = decide(input(policy("0.05"), 4, pods(4), [load(4, 4600)]), EMPTY, NOW);
    expect(tight.decision.desiredReplicas).toBe(5);
  });

  it("runs extra stages between the metrics and normalization, and records what they changed", () => {
    const floor = {
      name: "schedule floor",
      apply: (replicas: number) =>
        replicas < 6 ? { replicas: 6, reason: "floor 6 for the 09:00 rush" } : { replicas, reason: "" },
    };
    const { decision } = decide(
      input({ metrics: [inflight()] }, 3, pods(3), [load(3, 4000)], { stages: [floor] }),
      EMPTY,
      NOW,
    );
    expect(decision.desiredReplicas).toBe(6);
    expect(decision.stages.map((s) => [s.stage, s.from, s.to])).toEqual([
      ["metrics", 3, 3],
      ["schedule floor", 3, 6],
    ]);
    expect(decision.summary).toBe(
      "3 → 6: signal inflight 4/pod vs 4/pod (within tolerance); floor 6 for the 09:00 rush",
    );
  });

  it("never changes the state it is given, and its own state is plain JSON", () => {
    const state: AutoscalerState = {
      recommendations: [{ replicas: 3, at: NOW - 10_000 }],
      scaleUpEvents: [{ replicaChange: 1, at: NOW - 20_000, outdated: false }],
      scaleDownEvents: [],
    };
    const frozen = JSON.parse(JSON.stringify(state));
    const deepFreeze = (o: unknown): void => {
      if (o && typeof o === "object") {
        Object.freeze(o);
        for (const v of Object.values(o)) deepFreeze(v);
      }
    };
    deepFreeze(state);
    const policy = { metrics: [inflight()], behavior: {} };
    const a = decide(input(policy, 3, pods(3), [load(3, 12_000)]), state, NOW);
    expect(state).toEqual(frozen);
    const roundTrip = JSON.parse(JSON.stringify(a.state)) as AutoscalerState;
    expect(roundTrip).toEqual(a.state);
    const b1 = decide(input(policy, 6, pods(6), [load(6, 3000)]), a.state, NOW + 15_000);
    const b2 = decide(input(policy, 6, pods(6), [load(6, 3000)]), roundTrip, NOW + 15_000);
    expect(b2).toEqual(b1);
    expect(JSON.parse(JSON.stringify(b1.decision))).toEqual(b1.decision);
  });

  it("after a failed scale update keeps the stabilization history but records no scale event", () => {
    const policy = { metrics: [inflight()], behavior: {} };
    const result = decide(input(policy, 2, pods(2), [load(2, 8000)]), EMPTY, NOW);
    expect(result.state.scaleUpEvents).toHaveLength(1);
    const failed = withFailedRescale(result, EMPTY, "conflict");
    expect(failed.state.scaleUpEvents).toEqual([]);
    expect(failed.state.recommendations).toEqual(result.state.recommendations);
    expect(reasons(failed.decision)[0]).toBe("AbleToScale=False:FailedUpdateScale");
    expect(failed.decision.summary).toBe(
      "2 → 4: signal inflight 8/pod vs 4/pod (scale update failed: conflict)",
    );
  });

  it("refuses a scale that is not a replica count", () => {
    const { decision } = decide(input({ metrics: [inflight()] }, Number.NaN, [], []), EMPTY, NOW);
    expect(reasons(decision)).toEqual(["AbleToScale=False:FailedGetScale"]);
    expect(decision.rescale).toBe(false);
  });

  it("reports a scale that cannot be read", () => {
    const { decision, state } = withoutScale("web", "not found", EMPTY, NOW, 3);
    expect(reasons(decision)).toEqual(["AbleToScale=False:FailedGetScale"]);
    expect(decision.desiredReplicas).toBe(3);
    expect(state).toBe(EMPTY);
  });
});
