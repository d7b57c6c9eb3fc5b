// Kube mode end to end on the real control plane: two `ballast kube` controllers (ServiceAccount with
// the chart's ClusterRole, leader election on a Lease), real agents and apps for the pods kwok runs.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoordinationV1Api, type CoreV1Event } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freePort, type Proc, waitFor } from "../support/processes.js";
import {
  applyCrds,
  CONTROLLER_NS,
  controllerKubeconfig,
  createDeployment,
  createNamespace,
  createPolicy,
  type Kube,
  kube,
  PodAgents,
  readPolicy,
  signalPolicy,
  startController,
} from "./harness.js";

const skip = inject("kubeSkip");
const LEASE = "ballast-e2e";

describe.skipIf(skip !== "")("kube mode", () => {
  let k: Kube;
  let dir: string;
  const controllers: { proc: Proc; identity: string; port: number }[] = [];
  const agents: PodAgents[] = [];

  const deploymentReplicas = async (ns: string, name: string) =>
    (await k.apps.readNamespacedDeployment({ name, namespace: ns })).spec?.replicas;
  const runningPods = async (ns: string, selector: string) =>
    (await k.core.listNamespacedPod({ namespace: ns, labelSelector: selector })).items.filter(
      (p) => p.status?.phase === "Running" && !p.metadata?.deletionTimestamp,
    );
  const policyEvents = async (ns: string, name: string): Promise<CoreV1Event[]> =>
    (await k.core.listNamespacedEvent({ namespace: ns })).items.filter(
      (e) => e.involvedObject.kind === "ScalingPolicy" && e.involvedObject.name === name,
    );
  const leaseHolder = async () =>
    (
      await k.kc
        .makeApiClient(CoordinationV1Api)
        .readNamespacedLease({ name: LEASE, namespace: CONTROLLER_NS })
    ).spec?.holderIdentity;
  const output = () =>
    controllers.map((c) => `--- ${c.identity}\n${c.proc.output().slice(-3000)}`).join("\n");

  async function startAgents(ns: string, selector: string): Promise<PodAgents> {
    const a = new PodAgents(
      k,
      ns,
      selector,
      controllers.map((c) => `127.0.0.1:${c.port}`),
      join(dir, ns, selector.replace(/[^a-z0-9]/gi, "_")),
    );
    agents.push(a);
    await a.start();
    return a;
  }

  beforeAll(async () => {
    k = kube(inject("kubeconfig"));
    dir = mkdtempSync(join(tmpdir(), "ballast-kube-"));
    await applyCrds(k);
    const kubeconfig = await controllerKubeconfig(k, dir);
    for (const identity of ["controller-a", "controller-b"]) {
      const port = await freePort();
      controllers.push({
        proc: startController({ kubeconfig, identity, agentPort: port, leaseName: LEASE }),
        identity,
        port,
      });
      if (identity === "controller-a")
        await waitFor(
          async () => (await leaseHolder().catch(() => "")) === identity,
          20_000,
          "controller-a to lead",
        );
    }
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await Promise.all(controllers.map((c) => c.proc.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("scales a Deployment up under load through /scale, then down after stabilization, draining the victims first", async () => {
    const ns = await createNamespace(k, "up");
    await createDeployment(k, ns, "web", 1);
    const pods = await startAgents(ns, "app=web");
    await createPolicy(
      k,
      ns,
      signalPolicy("web", { apiVersion: "apps/v1", kind: "Deployment", name: "web" }),
    );
    pods.setTotal(5);
    await waitFor(
      async () =>
        (await readPolicy(k, ns, "web")).status?.conditions?.find(
          (c: { type: string }) => c.type === "ScalingActive",
        )?.status === "True",
      20_000,
      "ScalingActive=True",
    ).catch(async (e) => {
      throw new Error(
        `${e.message}\n${JSON.stringify(await readPolicy(k, ns, "web"))}\n${output()}\n${pods.logs()}`,
      );
    });
    expect(await deploymentReplicas(ns, "web")).toBe(1);

    // A backlog of 40 at 10 per pod: 4 replicas, each new pod scheduled and Running on a kwok node.
    const first = pods.running()[0] as string;
    pods.setTotal(40);
    await waitFor(async () => (await deploymentReplicas(ns, "web")) === 4, 20_000, `4 replicas\n${output()}`);
    await waitFor(async () => (await runningPods(ns, "app=web")).length === 4, 20_000, "4 Running pods");
    for (const p of await runningPods(ns, "app=web")) expect(p.spec?.nodeName).toMatch(/^kwok-node-/);
    // The pod that was there before the scale-out is asked to rebalance its connections.
    await waitFor(() => pods.rebalanced().includes(first), 15_000, "a rebalance of the first pod");
    const status = (await readPolicy(k, ns, "web")).status;
    expect(status?.desiredReplicas).toBe(4);
    expect(status?.lastScaleTime).toBeTruthy();
    const up = (await policyEvents(ns, "web")).filter((e) => e.reason === "SuccessfulRescale");
    expect(up.map((e) => e.message).join("\n")).toMatch(/New size: 4; reason: .*signal queue_backlog/);

    // Quiet: back to 1 after the 3 s scale-down window; the three victims drained before they went.
    pods.setTotal(4);
    await waitFor(async () => (await deploymentReplicas(ns, "web")) === 1, 30_000, `1 replica\n${output()}`);
    await waitFor(async () => (await runningPods(ns, "app=web")).length === 1, 20_000, "1 Running pod");
    const survivor = (await runningPods(ns, "app=web"))[0]?.metadata?.name as string;
    await waitFor(() => pods.drained().length >= 3, 10_000, "three drained apps");
    expect(pods.drained()).not.toContain(survivor);
    const costs = [...pods.deletionCosts.entries()].filter(([name]) => name !== survivor);
    expect(costs.length).toBe(3);
    for (const [, cost] of costs) expect(Number(cost)).toBeLessThan(0);
    const down = await waitFor(
      async () => {
        const list = (await policyEvents(ns, "web")).filter((e) => e.reason === "SuccessfulRescale");
        return list.some((e) => /New size: 1/.test(e.message ?? "")) ? list : undefined;
      },
      10_000,
      "the scale-down Event",
    );
    // Only the leader wrote Events.
    expect(new Set(down.map((e) => e.reportingInstance))).toEqual(new Set(["controller-a"]));
  });

  it("treats a pod that stops reporting as missing, never as idle", async () => {
    const ns = await createNamespace(k, "silent");
    await createDeployment(k, ns, "web", 3);
    const pods = await startAgents(ns, "app=web");
    await waitFor(() => pods.running().length === 3, 20_000, "3 pods with agents");
    // Each pod at the target: hold at 3.
    pods.setLoad(10);
    await createPolicy(k, ns, {
      ...signalPolicy("web", { apiVersion: "apps/v1", kind: "Deployment", name: "web" }, { downWindow: 0 }),
    });
    await waitFor(
      async () => /held at 3/.test((await readPolicy(k, ns, "web")).status?.lastDecision?.summary ?? ""),
      20_000,
      "held at 3",
    );
    // One pod goes silent. Read as idle (0), the average would fall to 6.7 and ask for 2 replicas.
    pods.silence(pods.running()[0] as string);
    await waitFor(
      async () =>
        /without data|missing/.test((await readPolicy(k, ns, "web")).status?.lastDecision?.summary ?? ""),
      10_000,
      `a decision that names the missing pod\n${output()}`,
    );
    await new Promise((r) => setTimeout(r, 3000));
    expect(await deploymentReplicas(ns, "web")).toBe(3);
    // Every agent gone: fail static. No metric, ScalingActive=False, the replicas stay as they are.
    for (const pod of pods.running()) pods.silence(pod);
    await waitFor(
      async () =>
        (await readPolicy(k, ns, "web")).status?.conditions?.find(
          (c: { type: string }) => c.type === "ScalingActive",
        )?.status === "False",
      10_000,
      "ScalingActive=False",
    );
    await new Promise((r) => setTimeout(r, 2000));
    expect(await deploymentReplicas(ns, "web")).toBe(3);
  });

  it("keeps burst headroom while the backlog swings: the floor holds what the mean alone would not", async () => {
    const ns = await createNamespace(k, "burst");
    await createDeployment(k, ns, "web", 1);
    const pods = await startAgents(ns, "app=web");
    const policy = signalPolicy("web", { apiVersion: "apps/v1", kind: "Deployment", name: "web" });
    // At 10 per pod a backlog swinging between 10 and 30 needs 1 to 3 replicas; mean 20 and a spread
    // of about 10 with 2 σ of headroom need (20 + 2 × 10) / 10 = 4.
    (policy.spec as Record<string, unknown>).burstHeadroom = {
      capacityPerPod: "10",
      sigmas: 2,
      windowSeconds: 30,
    };
    await createPolicy(k, ns, policy);
    let high = false;
    const swing = setInterval(() => {
      high = !high;
      pods.setTotal(high ? 30 : 10);
    }, 2000);
    try {
      await waitFor(
        async () => ((await deploymentReplicas(ns, "web")) ?? 0) >= 4,
        40_000,
        `4 replicas or more\n${output()}`,
      );
      const rescales = (await policyEvents(ns, "web")).filter((e) => e.reason === "SuccessfulRescale");
      expect(rescales.map((e) => e.message).join("\n")).toMatch(
        /New size: [4-6]; reason: .*signal queue_backlog [\d.]+ ± [\d.]+ over 30 s: 2 σ above the mean needs [4-6] at 10\/pod/,
      );
      // Held there through the low phases (a 3 s scale-down window would otherwise follow them to 1).
      for (let i = 0; i < 6; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        expect(await deploymentReplicas(ns, "web")).toBeGreaterThanOrEqual(4);
      }
    } finally {
      clearInterval(swing);
    }
    // Calm again (well inside one pod's capacity): the spread leaves the window and the floor lets the
    // count follow the backlog down.
    pods.setTotal(5);
    await waitFor(async () => (await deploymentReplicas(ns, "web")) === 1, 60_000, "1 replica").catch(
      async (e) => {
        throw new Error(`${e.message}\n${JSON.stringify((await readPolicy(k, ns, "web")).status)}`);
      },
    );
  });

  it("scales a StatefulSet and a custom resource with a scale subresource the same way", async () => {
    const ns = await createNamespace(k, "kinds");
    await k.apps.createNamespacedStatefulSet({
      namespace: ns,
      body: {
        metadata: { name: "db" },
        spec: {
          replicas: 1,
          serviceName: "db",
          podManagementPolicy: "Parallel",
          selector: { matchLabels: { app: "db" } },
          template: {
            metadata: { labels: { app: "db" } },
            spec: { containers: [{ name: "db", image: "example.invalid/db:1" }] },
          },
        },
      },
    });
    const db = await startAgents(ns, "app=db");
    await createPolicy(k, ns, signalPolicy("db", { apiVersion: "apps/v1", kind: "StatefulSet", name: "db" }));
    db.setTotal(30);
    await waitFor(
      async () =>
        (await k.apps.readNamespacedStatefulSet({ name: "db", namespace: ns })).spec?.replicas === 3,
      20_000,
      `StatefulSet at 3\n${output()}`,
    );

    // A custom kind with a /scale subresource; the test plays its controller (two bare pods, its status).
    await k.ext
      .createCustomResourceDefinition({
        body: {
          metadata: { name: "widgets.test.ballast.dev" },
          spec: {
            group: "test.ballast.dev",
            names: { kind: "Widget", plural: "widgets", singular: "widget" },
            scope: "Namespaced",
            versions: [
              {
                name: "v1",
                served: true,
                storage: true,
                schema: { openAPIV3Schema: { type: "object", x_kubernetes_preserve_unknown_fields: true } },
                subresources: {
                  status: {},
                  scale: {
                    specReplicasPath: ".spec.replicas",
                    statusReplicasPath: ".status.replicas",
                    labelSelectorPath: ".status.selector",
                  },
                },
              },
            ],
          },
        },
      })
      .catch(() => {});
    await waitFor(
      async () =>
        (
          await k.ext.readCustomResourceDefinition({ name: "widgets.test.ballast.dev" })
        ).status?.conditions?.some((c) => c.type === "Established" && c.status === "True"),
      20_000,
      "Widget CRD",
    );
    const widget = { group: "test.ballast.dev", version: "v1", plural: "widgets", namespace: ns };
    await k.custom.createNamespacedCustomObject({
      ...widget,
      body: {
        apiVersion: "test.ballast.dev/v1",
        kind: "Widget",
        metadata: { name: "w" },
        spec: { replicas: 2 },
      },
    });
    await k.custom.patchNamespacedCustomObjectStatus(
      { ...widget, name: "w", body: { status: { replicas: 2, selector: "widget=w" } } },
      (await import("@kubernetes/client-node")).setHeaderOptions(
        "Content-Type",
        "application/merge-patch+json",
      ),
    );
    for (const i of [0, 1]) {
      await k.core.createNamespacedPod({
        namespace: ns,
        body: {
          metadata: { name: `w-${i}`, labels: { widget: "w" } },
          spec: { containers: [{ name: "w", image: "example.invalid/w:1" }] },
        },
      });
    }
    const w = await startAgents(ns, "widget=w");
    w.setLoad(25); // 2 pods at 25 against 10 per pod: 5 replicas
    await createPolicy(
      k,
      ns,
      signalPolicy("widget", { apiVersion: "test.ballast.dev/v1", kind: "Widget", name: "w" }),
    );
    await waitFor(
      async () =>
        (
          (await k.custom.getNamespacedCustomObject({ ...widget, name: "w" })) as {
            spec: { replicas: number };
          }
        ).spec.replicas === 5,
      20_000,
      "Widget at 5",
    ).catch(async (e) => {
      const pods = (await k.core.listNamespacedPod({ namespace: ns, labelSelector: "widget=w" })).items;
      const state = pods.map((p) => `${p.metadata?.name} ${p.status?.phase} ${p.spec?.nodeName}`).join("; ");
      throw new Error(
        `${e.message}\npods: ${state}\n${JSON.stringify((await readPolicy(k, ns, "widget")).status)}\n${w.logs()}`,
      );
    });
  });

  it("keeps scaling after the leader is killed with SIGKILL: the standby takes over within the lease", async () => {
    const ns = await createNamespace(k, "failover");
    await createDeployment(k, ns, "web", 1);
    const pods = await startAgents(ns, "app=web");
    await createPolicy(
      k,
      ns,
      signalPolicy("web", { apiVersion: "apps/v1", kind: "Deployment", name: "web" }),
    );
    pods.setTotal(5);
    await waitFor(
      async () => /held at 1/.test((await readPolicy(k, ns, "web")).status?.lastDecision?.summary ?? ""),
      20_000,
      "held at 1",
    );
    const leader = controllers.find((c) => c.proc.child.exitCode === null && c.identity === "controller-a");
    expect(leader).toBeDefined();
    leader?.proc.child.kill("SIGKILL");
    const killedAt = Date.now();
    await waitFor(
      async () => (await leaseHolder()) === "controller-b",
      15_000,
      `controller-b to lead\n${output()}`,
    );
    const takeover = Date.now() - killedAt;
    expect(takeover).toBeLessThan(4000 + 2000); // lease duration 4 s, plus a retry period and slack
    pods.setTotal(30);
    await waitFor(async () => (await deploymentReplicas(ns, "web")) === 3, 20_000, `3 replicas\n${output()}`);
    // The Event follows the scale write: wait for it, then check that only the new leader acted.
    const rescales = await waitFor(
      async () => {
        const list = (await policyEvents(ns, "web")).filter((e) => e.reason === "SuccessfulRescale");
        return list.length > 0 ? list : undefined;
      },
      10_000,
      "the rescale Event",
    );
    expect(rescales.map((e) => e.reportingInstance)).toEqual(["controller-b"]);
  });
});
