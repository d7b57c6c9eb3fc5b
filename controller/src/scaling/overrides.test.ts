import { describe, expect, it } from "vitest";
import { type Override, overrideStage } from "./overrides.js";
import type { DecisionInput } from "./types.js";

const NOW = 1_000_000;
const input = (current: number) =>
  ({
    workload: "w",
    policy: { maxReplicas: 100 },
    scale: { specReplicas: current, statusReplicas: current },
    pods: [],
    metrics: [],
  }) as DecisionInput;
const o = (kind: Override["kind"], replicas?: number, expiresAt = NOW + 60_000): Override => ({
  id: `${kind}-${replicas}`,
  kind,
  replicas,
  expiresAt,
  reason: "flash sale",
  setBy: "alice",
  setAt: NOW,
});

describe("override stage", () => {
  it("holds an exact count and says who asked and why", () => {
    const r = overrideStage([o("exact", 40)]).apply(6, input(6), NOW);
    expect(r.replicas).toBe(40);
    expect(r.reason).toMatch(/override exact 40 by alice until .*: flash sale/);
  });

  it("raises to the highest floor, lowers to the lowest ceiling, ceiling last", () => {
    expect(overrideStage([o("floor", 5), o("floor", 8)]).apply(3, input(3), NOW).replicas).toBe(8);
    expect(overrideStage([o("ceiling", 5), o("ceiling", 4)]).apply(9, input(9), NOW).replicas).toBe(4);
    expect(overrideStage([o("floor", 10), o("ceiling", 6)]).apply(3, input(3), NOW).replicas).toBe(6);
    expect(overrideStage([o("floor", 5)]).apply(7, input(7), NOW)).toEqual({ replicas: 7, reason: "" });
  });

  it("freezes one direction at the current size", () => {
    expect(overrideStage([o("freeze-up")]).apply(9, input(4), NOW).replicas).toBe(4);
    expect(overrideStage([o("freeze-up")]).apply(2, input(4), NOW).replicas).toBe(2);
    expect(overrideStage([o("freeze-down")]).apply(2, input(4), NOW).replicas).toBe(4);
  });

  it("ignores expired overrides", () => {
    expect(overrideStage([o("exact", 40, NOW)]).apply(6, input(6), NOW).replicas).toBe(6);
  });
});

describe("overrides in the pipeline", () => {
  it("hold even when no metric has data, within the policy's bounds, and nothing else moves", async () => {
    const { decide } = await import("./pipeline.js");
    const base = {
      workload: "w",
      policy: {
        maxReplicas: 30,
        metrics: [
          {
            type: "Signal" as const,
            signal: { name: "inflight", target: { type: "AverageValue" as const, averageValue: "4" } },
          },
        ],
      },
      scale: { specReplicas: 3, statusReplicas: 3 },
      pods: [],
      metrics: [{ error: "no pod has reported it" }],
    };
    const held = decide({ ...base, stages: [overrideStage([o("exact", 40)])] }, undefined, NOW).decision;
    expect(held.desiredReplicas).toBe(30);
    expect(held.summary).toMatch(/override exact 40/);
    expect(decide(base, undefined, NOW).decision.desiredReplicas).toBe(3);
  });
});
