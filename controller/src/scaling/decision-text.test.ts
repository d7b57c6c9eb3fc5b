import { describe, expect, it } from "vitest";
import {
  formatAmount,
  formatNumber,
  limitReason,
  metricLabel,
  proposalReason,
  stabilizationReason,
  summarize,
} from "./decision-text.js";
import { decide } from "./pipeline.js";
import type { DecisionInput, PodInfo, PodSample } from "./types.js";

const NOW = 1_700_000_000_000;

describe("numbers in words", () => {
  it.each([
    [0, "0"],
    [4, "4"],
    [9.6, "9.6"],
    [0.75, "0.75"],
    [3.14259, "3.14"],
    [12.34, "12.3"],
    [0.012345, "0.0123"],
    [412.4, "412"],
    [9999, "9999"],
    [12_345, "12.3k"],
    [20_000, "20k"],
    [1_500_000, "1.5M"],
    [2.5e10, "25G"],
    [-4.25, "-4.25"],
  ])("%d → %s", (x, s) => {
    expect(formatNumber(x)).toBe(s);
  });

  it("shows cpu in millicores or cores and memory in binary units", () => {
    expect(formatAmount(250, "cpu")).toBe("250m");
    expect(formatAmount(1500, "cpu")).toBe("1.5");
    expect(formatAmount(512 * 2 ** 20 * 1000, "memory")).toBe("512Mi");
    expect(formatAmount(1.5 * 2 ** 30 * 1000, "memory")).toBe("1.5Gi");
    expect(formatAmount(9600)).toBe("9.6");
  });

  it("names metrics by type and name", () => {
    expect(
      metricLabel({ type: "Signal", signal: { name: "inflight", target: { type: "AverageValue" } } }),
    ).toBe("signal inflight");
    expect(
      metricLabel({
        type: "ContainerResource",
        containerResource: { name: "cpu", container: "app", target: { type: "Utilization" } },
      }),
    ).toBe("container resource cpu of app");
    expect(
      metricLabel({
        type: "Object",
        object: {
          describedObject: { kind: "Ingress", name: "main" },
          metric: { name: "rps" },
          target: { type: "Value" },
        },
      }),
    ).toBe("object rps of Ingress/main");
    expect(
      metricLabel({ type: "External", external: { metric: { name: "queue" }, target: { type: "Value" } } }),
    ).toBe("external queue");
  });
});

describe("reasons", () => {
  const t = { scaleUp: 0.1, scaleDown: 0.1 };

  it("says what a metric measured against its target, with pods that did not count", () => {
    expect(
      proposalReason(
        { metric: "signal inflight", type: "Signal", current: "9.6/pod", target: "4/pod", ratio: 2.4 },
        t,
      ),
    ).toBe("signal inflight 9.6/pod vs 4/pod");
    expect(
      proposalReason(
        {
          metric: "resource cpu",
          type: "Resource",
          current: "62%",
          target: "60%",
          ratio: 62 / 60,
          pods: { ready: 3, unready: 1, missing: 1, ignored: 0 },
        },
        t,
      ),
    ).toBe("resource cpu 62% vs 60% (1 of 5 pods without data, 1 of 5 pods not ready, within tolerance)");
    expect(proposalReason({ metric: "pods rps", type: "Pods", error: "boom" }, t)).toBe(
      "pods rps failed: boom",
    );
  });

  it("says which recommendation held the number, and how long ago", () => {
    const rec = { replicas: 6, at: NOW - 212_000 };
    expect(
      stabilizationReason(
        { replicas: 6, recommendations: [], reason: "ScaleDownStabilized", heldBy: rec },
        NOW,
      ),
    ).toBe("scale-down stabilized by a recommendation from 212 s ago");
    expect(
      stabilizationReason(
        {
          replicas: 4,
          recommendations: [],
          reason: "ScaleUpStabilized",
          heldBy: { replicas: 3, at: NOW - 40_000 },
        },
        NOW,
      ),
    ).toBe("scale-up stabilized by a recommendation of 3 from 40 s ago");
  });

  it("says which limit applied", () => {
    const bounds = { min: 2, max: 10 };
    expect(limitReason({ replicas: 10, reason: "TooManyReplicas", message: "" }, bounds)).toBe(
      "capped at maxReplicas 10",
    );
    expect(limitReason({ replicas: 2, reason: "TooFewReplicas", message: "" }, bounds)).toBe(
      "raised to minReplicas 2",
    );
    expect(
      limitReason(
        {
          replicas: 8,
          reason: "ScaleUpLimit",
          message: "",
          policy: { type: "Percent", value: 100, periodSeconds: 15 },
        },
        bounds,
      ),
    ).toBe("scale-up limited to 8 by policy 100% per 15 s");
    expect(
      limitReason(
        {
          replicas: 9,
          reason: "ScaleDownLimit",
          message: "",
          policy: { type: "Pods", value: 1, periodSeconds: 60 },
        },
        bounds,
      ),
    ).toBe("scale-down limited to 9 by policy 1 pod per 60 s");
    expect(
      limitReason({ replicas: 5, reason: "ScaleDownLimit", message: "", policy: "Disabled" }, bounds),
    ).toBe("scale-down disabled by selectPolicy");
    expect(
      limitReason({ replicas: 4, reason: "ScaleUpLimit", message: "" }, { ...bounds, factor: 2, minimum: 4 }),
    ).toBe("scale-up limited to 4 (at most ×2 or 4 per decision)");
  });

  it("summarizes a change by the metric and the last limit, and a hold by what held it", () => {
    const metrics = { stage: "metrics", from: 2, to: 10, reason: "signal inflight 19/pod vs 4/pod" };
    const rate = {
      stage: "rate limit",
      from: 10,
      to: 4,
      reason: "scale-up limited to 4 (at most ×2 or 4 per decision)",
    };
    expect(summarize(2, 4, [metrics, rate])).toBe(
      "2 → 4: signal inflight 19/pod vs 4/pod; scale-up limited to 4 (at most ×2 or 4 per decision)",
    );
    expect(summarize(2, 10, [metrics])).toBe("2 → 10: signal inflight 19/pod vs 4/pod");
    const held = {
      stage: "stabilization",
      from: 3,
      to: 6,
      reason: "scale-down stabilized by a recommendation from 212 s ago",
    };
    expect(summarize(6, 6, [{ ...metrics, from: 6, to: 3 }, held])).toBe(
      "held at 6: scale-down stabilized by a recommendation from 212 s ago",
    );
    expect(summarize(7, 4, [{ stage: "bounds", from: 7, to: 4, reason: "above maxReplicas 4" }])).toBe(
      "7 → 4: above maxReplicas 4",
    );
  });
});

describe("decision summaries from decide()", () => {
  const pods = (n: number): PodInfo[] =>
    Array.from({ length: n }, (_, i) => ({
      name: `p${i}`,
      phase: "Running",
      ready: true,
      startTime: NOW - 600_000,
    }));
  const load = (n: number, milli: number) => ({
    podSamples: new Map<string, PodSample>(
      pods(n).map((p) => [p.name, { value: milli, timestamp: NOW, window: 1000 }]),
    ),
  });
  const base = (replicas: number, milli: number): DecisionInput => ({
    workload: "web",
    policy: {
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [
        { type: "Signal", signal: { name: "inflight", target: { type: "AverageValue", averageValue: "4" } } },
      ],
    },
    scale: { specReplicas: replicas, statusReplicas: replicas },
    pods: pods(replicas),
    metrics: [load(replicas, milli)],
  });

  it('reads "held at 6: scale-down stabilized by a recommendation from 212 s ago"', () => {
    const state = {
      recommendations: [{ replicas: 6, at: NOW - 212_000 }],
      scaleUpEvents: [],
      scaleDownEvents: [],
    };
    const { decision } = decide(base(6, 1000), state, NOW);
    expect(decision.summary).toBe("held at 6: scale-down stabilized by a recommendation from 212 s ago");
    expect(decision.stages).toEqual([
      { stage: "metrics", from: 6, to: 2, reason: "signal inflight 1/pod vs 4/pod" },
      {
        stage: "stabilization",
        from: 2,
        to: 6,
        reason: "scale-down stabilized by a recommendation from 212 s ago",
      },
    ]);
  });

  it('reads "2 → 5: signal inflight 9.6/pod vs 4/pod"', () => {
    const input = base(2, 9600);
    input.policy.behavior = {};
    expect(decide(input, undefined, NOW).decision.summary).toBe("2 → 5: signal inflight 9.6/pod vs 4/pod");
  });

  it("reads a hold inside the tolerance as such", () => {
    const state = { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] };
    expect(decide(base(3, 4200), state, NOW).decision.summary).toBe(
      "held at 3: signal inflight 4.2/pod vs 4/pod (within tolerance)",
    );
  });
});
