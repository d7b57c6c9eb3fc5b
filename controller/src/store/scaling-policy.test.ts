import { describe, expect, it } from "vitest";
import { parseScalingPolicy } from "./scaling-policy.js";

const meta = { namespace: "shop", name: "web", uid: "u1", generation: 2 };
const metrics = [
  { type: "Signal", signal: { name: "inflight", target: { type: "AverageValue", averageValue: "4" } } },
];

describe("ScalingPolicy objects", () => {
  it("reads a sound policy", () => {
    const r = parseScalingPolicy({
      metadata: meta,
      spec: {
        targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
        maxReplicas: 5,
        metrics,
      },
    });
    expect(r.policy).toMatchObject({ namespace: "shop", generation: 2, targetRef: { kind: "Deployment" } });
    expect(r.policy?.spec).toEqual({ maxReplicas: 5, metrics });
  });

  it("names every problem and never yields a policy from a bad spec", () => {
    const r = parseScalingPolicy({
      metadata: meta,
      spec: { targetRef: { kind: "Deployment" }, minReplicas: 3, maxReplicas: 2 },
    });
    expect(r.policy).toBeUndefined();
    expect(r.problems).toContain("spec.targetRef.apiVersion: required");
    expect(r.problems).toContain("spec.targetRef.name: required");
    expect(
      r.problems?.some((p) => p.startsWith("spec.minReplicas") || p.startsWith("spec.maxReplicas")),
    ).toBe(true);
    expect(parseScalingPolicy({ metadata: meta }).problems).toEqual(["spec: required"]);
    const badSchedule = parseScalingPolicy({
      metadata: meta,
      spec: {
        targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
        maxReplicas: 5,
        schedules: [{ name: "match", cron: "0 15 * * 6", minReplicas: 9 }],
      },
    });
    expect(badSchedule.problems).toEqual([
      "spec.schedules[0].durationSeconds: required with cron, an integer from 60 to 1209600",
    ]);
  });
});
