import { describe, expect, it } from "vitest";
import { decide } from "./pipeline.js";
import { rulesStage, validateRules } from "./rules.js";
import type { DecisionInput, PodInfo } from "./types.js";

const NOW = Date.parse("2026-11-24T12:00:00Z");
const pods = (ready: number, unready: number): PodInfo[] => [
  ...Array.from({ length: ready }, (_, i) => ({ name: `r${i}`, phase: "Running" as const, ready: true })),
  ...Array.from({ length: unready }, (_, i) => ({ name: `u${i}`, phase: "Running" as const, ready: false })),
];
const input = (current: number, p: PodInfo[] = pods(current, 0)) =>
  ({
    workload: "w",
    policy: { maxReplicas: 100 },
    scale: { specReplicas: current, statusReplicas: current },
    pods: p,
    metrics: [],
  }) as DecisionInput;

describe("rules stage", () => {
  it("forbids a direction, for good or until a time", () => {
    expect(rulesStage({ forbidScaleDown: {} }).apply(2, input(6), NOW)).toEqual({
      replicas: 6,
      reason: "scale-down forbidden",
    });
    expect(
      rulesStage({ forbidScaleUp: { until: "2026-11-24T13:00:00Z" } }).apply(9, input(6), NOW).replicas,
    ).toBe(6);
    expect(
      rulesStage({ forbidScaleUp: { until: "2026-11-24T11:00:00Z" } }).apply(9, input(6), NOW).replicas,
    ).toBe(9);
  });

  it("limits each step by count or percent, whichever allows more", () => {
    expect(rulesStage({ maxStepUp: { replicas: 2 } }).apply(20, input(10), NOW)).toEqual({
      replicas: 12,
      reason: "step up limited to 2",
    });
    expect(rulesStage({ maxStepUp: { replicas: 2, percent: 50 } }).apply(20, input(10), NOW).replicas).toBe(
      15,
    );
    expect(rulesStage({ maxStepDown: { percent: 10 } }).apply(1, input(10), NOW).replicas).toBe(9);
  });

  it("makes up for unready replicas to keep the guaranteed ready minimum", () => {
    expect(rulesStage({ minReadyReplicas: 5 }).apply(4, input(6, pods(3, 3)), NOW)).toEqual({
      replicas: 8,
      reason: "3 ready of the 5 guaranteed: at least 8",
    });
    expect(rulesStage({ minReadyReplicas: 5 }).apply(4, input(6, pods(6, 0)), NOW).replicas).toBe(5);
    expect(rulesStage({ minReadyReplicas: 5 }).apply(7, input(6, pods(6, 0)), NOW).replicas).toBe(7);
  });

  it("wins over the metrics in the pipeline", () => {
    const metrics = [
      {
        podSamples: new Map([
          ["r0", { value: 100_000, timestamp: NOW - 1000, window: 1000 }],
          ["r1", { value: 100_000, timestamp: NOW - 1000, window: 1000 }],
        ]),
      },
    ];
    const base = {
      workload: "w",
      policy: {
        maxReplicas: 40,
        metrics: [
          {
            type: "Signal" as const,
            signal: { name: "inflight", target: { type: "AverageValue" as const, averageValue: "4" } },
          },
        ],
        behavior: {},
      },
      scale: { specReplicas: 2, statusReplicas: 2 },
      pods: pods(2, 0),
      metrics,
    };
    expect(decide(base, undefined, NOW).decision.desiredReplicas).toBeGreaterThan(2);
    const held = decide({ ...base, stages: [rulesStage({ forbidScaleUp: {} })] }, undefined, NOW).decision;
    expect(held.desiredReplicas).toBe(2);
    expect(held.summary).toMatch(/scale-up forbidden/);
  });

  it("names the field of every problem", () => {
    expect(
      validateRules({
        maxStepUp: {},
        maxStepDown: { percent: 0 },
        forbidScaleUp: { until: "later" },
        minReadyReplicas: -1,
        never: true,
      }),
    ).toEqual([
      "spec.rules.never: unknown field; expected one of forbidScaleUp, forbidScaleDown, maxStepUp, maxStepDown, minReadyReplicas",
      "spec.rules.forbidScaleUp.until: not an RFC 3339 time",
      "spec.rules.maxStepUp: needs replicas or percent",
      "spec.rules.maxStepDown.percent: must be a number above 0 and at most 1000",
      "spec.rules.minReadyReplicas: must be an integer ≥ 0",
    ]);
  });
});
