import { describe, expect, it } from "vitest";
import type { Decision } from "../scaling/types.js";
import { policyStatus } from "./policy-status.js";

const decision = (at: number, active: boolean): Decision => ({
  at,
  workload: "ns/web",
  currentReplicas: 2,
  desiredReplicas: 4,
  proposals: [{ metric: "signal inflight", type: "Signal", replicas: 4, current: "8/pod", target: "4/pod" }],
  stages: [{ stage: "metrics", from: 2, to: 4, reason: "signal inflight 8/pod vs 4/pod" }],
  conditions: [
    { type: "AbleToScale", status: "True", reason: "SucceededRescale", message: "ok" },
    {
      type: "ScalingActive",
      status: active ? "True" : "False",
      reason: active ? "ValidMetricFound" : "FailedGetSignalMetric",
      message: "m",
    },
  ],
  summary: "2 → 4: signal inflight 8/pod vs 4/pod",
  rescale: true,
});

describe("ScalingPolicy status", () => {
  it("carries the decision, its stages and proposals, and the scale time", () => {
    const s = policyStatus(decision(1_000, true), 3, undefined, 1_000);
    expect(s).toMatchObject({
      observedGeneration: 3,
      currentReplicas: 2,
      desiredReplicas: 4,
      lastScaleTime: "1970-01-01T00:00:01.000Z",
      lastDecision: { from: 2, to: 4, summary: "2 → 4: signal inflight 8/pod vs 4/pod" },
    });
    // Without a forecast the field is null, so a merge patch removes what an earlier spec left there.
    expect(s.predictive).toBeNull();
    expect(
      policyStatus(decision(1_000, true), 3, undefined, 1_000, [], {
        state: "PoorForecast",
        message: "forecast off: backtest MAPE 31.4 % is above 25 %",
        mape: 31.4444,
      }).predictive,
    ).toEqual({
      state: "PoorForecast",
      message: "forecast off: backtest MAPE 31.4 % is above 25 %",
      mapePercent: 31.4,
    });
    expect(s.lastDecision.proposals[0]).toEqual({
      metric: "signal inflight",
      replicas: 4,
      current: "8/pod",
      target: "4/pod",
    });
  });

  it("keeps a condition's lastTransitionTime until its status changes", () => {
    const first = policyStatus(decision(1_000, true), 1, undefined, undefined);
    const same = policyStatus(decision(5_000, true), 1, first.conditions, undefined);
    expect(same.conditions.find((c) => c.type === "ScalingActive")?.lastTransitionTime).toBe(
      "1970-01-01T00:00:01.000Z",
    );
    const flipped = policyStatus(decision(9_000, false), 1, same.conditions, undefined);
    expect(flipped.conditions.find((c) => c.type === "ScalingActive")?.lastTransitionTime).toBe(
      "1970-01-01T00:00:09.000Z",
    );
    expect(flipped.conditions.find((c) => c.type === "AbleToScale")?.lastTransitionTime).toBe(
      "1970-01-01T00:00:01.000Z",
    );
  });
});
