// The ScalingPolicy CRD on the real API server: sound specs pass, bad ones are refused with a message
// that names the field, and the verdict agrees with the controller's own validation.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { ApiException } from "@kubernetes/client-node";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { parseScalingPolicy } from "../../controller/src/store/scaling-policy.js";
import { waitFor } from "../support/processes.js";
import { applyCrds, createNamespace, type Kube, kube } from "./harness.js";

const skip = inject("kubeSkip");
const target = { apiVersion: "apps/v1", kind: "Deployment", name: "web" };
const signal = {
  type: "Signal",
  signal: { name: "inflight", target: { type: "AverageValue", averageValue: "4" } },
};

const cases: { name: string; spec: Record<string, unknown>; refused?: RegExp }[] = [
  { name: "minimal", spec: { targetRef: target, maxReplicas: 5 } },
  {
    name: "signal-and-behavior",
    spec: {
      targetRef: target,
      minReplicas: 2,
      maxReplicas: 9,
      metrics: [signal],
      behavior: {
        scaleDown: {
          stabilizationWindowSeconds: 60,
          policies: [{ type: "Percent", value: 50, periodSeconds: 30 }],
        },
      },
    },
  },
  {
    name: "min-above-max",
    spec: { targetRef: target, minReplicas: 6, maxReplicas: 5 },
    refused: /minReplicas must not exceed maxReplicas/,
  },
  { name: "no-target", spec: { maxReplicas: 5 }, refused: /spec\.targetRef: Required value/ },
  {
    name: "negative-max",
    spec: { targetRef: target, maxReplicas: -1 },
    refused: /spec\.maxReplicas: Invalid value/,
  },
  {
    name: "signal-without-name",
    spec: {
      targetRef: target,
      maxReplicas: 5,
      metrics: [{ type: "Signal", signal: { target: { type: "AverageValue", averageValue: "4" } } }],
    },
    refused: /spec\.metrics\[0\]\.signal\.name: Required value/,
  },
  {
    name: "utilization-on-pods",
    spec: {
      targetRef: target,
      maxReplicas: 5,
      metrics: [
        {
          type: "Pods",
          pods: { metric: { name: "rps" }, target: { type: "Utilization", averageUtilization: 50 } },
        },
      ],
    },
    refused: /a Pods target is AverageValue/,
  },
  {
    name: "unknown-type",
    spec: { targetRef: target, maxReplicas: 5, metrics: [{ type: "Magic" }] },
    refused: /spec\.metrics\[0\]\.type: Unsupported value: "Magic"/,
  },
  {
    name: "source-mismatch",
    spec: { targetRef: target, maxReplicas: 5, metrics: [{ type: "Resource", signal: signal.signal }] },
    refused: /resource is required when type is Resource/,
  },
  {
    name: "bad-select-policy",
    spec: { targetRef: target, maxReplicas: 5, behavior: { scaleUp: { selectPolicy: "Most" } } },
    refused: /selectPolicy: Unsupported value/,
  },
  {
    name: "period-too-long",
    spec: {
      targetRef: target,
      maxReplicas: 5,
      behavior: { scaleUp: { policies: [{ type: "Pods", value: 4, periodSeconds: 1801 }] } },
    },
    refused: /periodSeconds: Invalid value: 1801/,
  },
  {
    name: "scenario-and-rules",
    spec: {
      targetRef: target,
      maxReplicas: 9,
      schedules: [
        {
          name: "match",
          timezone: "Europe/London",
          cron: "0 15 * * 6",
          durationSeconds: 10800,
          leadSeconds: 1200,
          minReplicas: 6,
        },
      ],
      rules: { forbidScaleDown: {}, maxStepUp: { percent: 50 } },
    },
  },
  {
    name: "schedule-without-duration",
    spec: {
      targetRef: target,
      maxReplicas: 9,
      schedules: [{ name: "match", cron: "0 15 * * 6", minReplicas: 6 }],
    },
    refused: /needs cron with durationSeconds, or start and end/,
  },
  {
    name: "step-without-size",
    spec: { targetRef: target, maxReplicas: 9, rules: { maxStepUp: {} } },
    refused: /spec\.rules\.maxStepUp: Invalid value: "object": needs replicas or percent/,
  },
  {
    name: "predictive-with-history",
    spec: {
      targetRef: target,
      maxReplicas: 20,
      metrics: [
        { type: "Signal", signal: { name: "rps", target: { type: "AverageValue", averageValue: "80" } } },
      ],
      predictive: {
        metric: "rps",
        horizonSeconds: 600,
        bucketSeconds: 300,
        weekly: true,
        maxErrorPercent: 25,
        history: {
          prometheus: { query: 'sum(rate(http_requests_total{app="shop"}[1m]))', lookbackDays: 14 },
        },
      },
    },
  },
  {
    name: "predictive-bucket-not-dividing-a-day",
    spec: {
      targetRef: target,
      maxReplicas: 20,
      metrics: [
        { type: "Signal", signal: { name: "rps", target: { type: "AverageValue", averageValue: "80" } } },
      ],
      predictive: { bucketSeconds: 420 },
    },
    refused: /spec\.predictive: Invalid value: "object": bucketSeconds must divide a day \(86400\) evenly/,
  },
  {
    name: "burst-headroom",
    spec: {
      targetRef: target,
      maxReplicas: 20,
      metrics: [
        { type: "Signal", signal: { name: "rps", target: { type: "AverageValue", averageValue: "85" } } },
      ],
      burstHeadroom: { metric: "rps", capacityPerPod: "90", sigmas: 4.5, windowSeconds: 300 },
    },
  },
  {
    name: "burst-headroom-bad-capacity",
    spec: {
      targetRef: target,
      maxReplicas: 20,
      metrics: [
        { type: "Signal", signal: { name: "rps", target: { type: "AverageValue", averageValue: "85" } } },
      ],
      burstHeadroom: { capacityPerPod: "ninety" },
    },
    refused: /spec\.burstHeadroom\.capacityPerPod/,
  },
  {
    name: "bad-quantity",
    spec: {
      targetRef: target,
      maxReplicas: 5,
      metrics: [
        {
          type: "Signal",
          signal: { name: "inflight", target: { type: "AverageValue", averageValue: "four" } },
        },
      ],
    },
    refused: /averageValue/,
  },
];

describe.skipIf(skip !== "")("ScalingPolicy CRD", () => {
  let k: Kube;
  let ns: string;
  beforeAll(async () => {
    k = kube(inject("kubeconfig"));
    await applyCrds(k);
    ns = await createNamespace(k, "schema");
  });

  for (const c of cases) {
    it(`${c.refused ? "refuses" : "accepts"} ${c.name}, as the controller's validation does`, async () => {
      let error: string | undefined;
      try {
        await k.custom.createNamespacedCustomObject({
          group: "autoscaling.ballast.dev",
          version: "v1alpha1",
          plural: "scalingpolicies",
          namespace: ns,
          body: {
            apiVersion: "autoscaling.ballast.dev/v1alpha1",
            kind: "ScalingPolicy",
            metadata: { name: c.name },
            spec: c.spec,
          },
        });
      } catch (e) {
        if (!(e instanceof ApiException)) throw e;
        expect(e.code).toBe(422);
        error = JSON.parse(e.body as string).message as string;
      }
      if (c.refused) expect(error).toMatch(c.refused);
      else expect(error).toBeUndefined();
      // The controller never acts on what the API server refuses.
      expect(
        parseScalingPolicy({ metadata: { namespace: ns, name: c.name }, spec: c.spec }).policy === undefined,
      ).toBe(!!c.refused);
    });
  }

  it("prints target, bounds, replicas and activity in kubectl get", async () => {
    await waitFor(
      async () => {
        const list = await k.custom.listNamespacedCustomObject({
          group: "autoscaling.ballast.dev",
          version: "v1alpha1",
          plural: "scalingpolicies",
          namespace: ns,
        });
        return (list as { items: unknown[] }).items.length > 0;
      },
      10_000,
      "a policy to list",
    );
    const out = execFileSync(
      join(inject("k8sBin"), "kubectl"),
      ["--kubeconfig", inject("kubeconfig"), "get", "sp", "-n", ns],
      { encoding: "utf8" },
    );
    expect(out.split("\n")[0]).toMatch(/^NAME\s+TARGET\s+MIN\s+MAX\s+CURRENT\s+DESIRED\s+ACTIVE\s+AGE/);
    expect(out).toMatch(/signal-and-behavior\s+web\s+2\s+9/);
  });
});
