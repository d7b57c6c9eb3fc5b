// The replica-control API on the real control plane: ServiceAccount tokens checked by TokenReview,
// RBAC by SubjectAccessReview, overrides that the Deployment follows, an audit of allowed and refused
// calls, expiry, and overrides that survive a controller restart (they live in the policy's status).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Decision, OverrideKind, ReplicaControlClient, type ScaleState } from "@ballast/proto";
import { credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freePort, type Proc, waitFor } from "../support/processes.js";
import {
  applyCrds,
  controllerKubeconfig,
  createDeployment,
  createNamespace,
  createPolicy,
  type Kube,
  kube,
  PodAgents,
  serviceAccountToken,
  signalPolicy,
  startController,
} from "./harness.js";

const skip = inject("kubeSkip");

describe.skipIf(skip !== "")("replica-control API", () => {
  let k: Kube;
  let dir: string;
  let kubeconfig: string;
  let agentPort: number;
  let apiPort: number;
  let controller: Proc | undefined;
  let pods: PodAgents | undefined;

  const start = (identity: string) => {
    controller = startController({
      kubeconfig,
      identity,
      agentPort,
      apiPort,
      leaseName: "ballast-api-e2e",
      extra: ["--audit-log", join(dir, "audit.jsonl")],
    });
  };
  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    // Paced below the API's 5 calls per second per caller, since waitFor polls through here.
    await new Promise((r) => setTimeout(r, 220));
    const res = await fetch(`http://127.0.0.1:${apiPort}${path}`, {
      signal: AbortSignal.timeout(10_000),
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  beforeAll(async () => {
    k = kube(inject("kubeconfig"));
    dir = mkdtempSync(join(tmpdir(), "ballast-api-"));
    await applyCrds(k);
    kubeconfig = await controllerKubeconfig(k, dir);
    agentPort = await freePort();
    apiPort = await freePort();
    start("api-a");
  });

  afterAll(async () => {
    await pods?.stop();
    await controller?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("lets an allowed ServiceAccount hold replicas, refuses the others, audits both, and expires", async () => {
    const ns = await createNamespace(k, "shop");
    await createDeployment(k, ns, "web", 1);
    pods = new PodAgents(k, ns, "app=web", [`127.0.0.1:${agentPort}`], join(dir, "pods"));
    await pods.start();
    pods.setTotal(5);
    await createPolicy(
      k,
      ns,
      signalPolicy("web", { apiVersion: "apps/v1", kind: "Deployment", name: "web" }),
    );
    // RBAC: "steerer" may update the Deployment's scale (and read the policy); "outsider" may not.
    await k.rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: "steer-web" },
        rules: [
          { apiGroups: ["apps"], resources: ["deployments/scale"], verbs: ["update"] },
          { apiGroups: ["autoscaling.ballast.dev"], resources: ["scalingpolicies"], verbs: ["get"] },
        ],
      },
    });
    await k.rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: "steer-web" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "steer-web" },
        subjects: [{ kind: "ServiceAccount", name: "steerer", namespace: ns }],
      },
    });
    const steerer = await serviceAccountToken(k, ns, "steerer");
    const outsider = await serviceAccountToken(k, ns, "outsider");
    const path = `/v1/namespaces/${ns}/scalingpolicies/web`;
    // The policy decides on the pods' signals before anyone steers it.
    await waitFor(
      async () =>
        /held at 1: signal queue_backlog/.test(
          (await call("GET", path, steerer)).body?.lastDecision?.summary ?? "",
        ),
      20_000,
      "a decision on the pods' signals",
    );

    expect((await call("GET", path)).status).toBe(401);
    expect((await call("GET", path, "not-a-token")).status).toBe(401);
    const bad = await call("POST", `${path}/overrides`, steerer, {
      kind: "exact",
      replicas: -1,
      ttlSeconds: 0,
      reason: "",
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/replicas: .*ttlSeconds: .*reason: /);

    const refused = await call("POST", `${path}/overrides`, outsider, {
      kind: "exact",
      replicas: 4,
      ttlSeconds: 60,
      reason: "not mine",
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatch(
      /system:serviceaccount:.*:outsider may not update deployments\/scale web/,
    );

    const held = await call("POST", `${path}/overrides`, steerer, {
      kind: "exact",
      replicas: 4,
      ttlSeconds: 25,
      reason: "flash sale",
    });
    expect(held.status).toBe(201);
    expect(held.body).toMatchObject({
      kind: "exact",
      replicas: 4,
      setBy: `system:serviceaccount:${ns}:steerer`,
    });
    await waitFor(
      async () =>
        (await k.apps.readNamespacedDeployment({ name: "web", namespace: ns })).spec?.replicas === 4,
      20_000,
      "4 replicas",
    );
    const scale = await call("GET", path, steerer);
    expect(scale.body.overrides).toHaveLength(1);
    const decisions = (await call("GET", `${path}/decisions`, steerer)).body.decisions as {
      summary: string;
    }[];
    expect(decisions.map((d) => d.summary).join("\n")).toMatch(
      /1 → 4: .*override exact 4 by system:serviceaccount:.*steerer.*flash sale/,
    );

    // The same API over gRPC (ReplicaControl, on the AgentLink port): the scale, and a decision stream.
    const grpc = new ReplicaControlClient(`127.0.0.1:${agentPort}`, credentials.createInsecure());
    const md = new Metadata();
    md.set("authorization", `Bearer ${steerer}`);
    const state = await new Promise<ScaleState>((resolve, reject) =>
      grpc.getScale(
        { workload: { namespace: ns, name: "web" } },
        md,
        { deadline: Date.now() + 10_000 },
        (e, r) => (e ? reject(e) : resolve(r)),
      ),
    );
    expect(state.overrides[0]).toMatchObject({
      kind: OverrideKind.OVERRIDE_KIND_EXACT,
      replicas: 4,
      reason: "flash sale",
    });
    const denied = await new Promise<ServiceError | null>((resolve) =>
      grpc.getScale(
        { workload: { namespace: ns, name: "web" } },
        new Metadata(),
        { deadline: Date.now() + 10_000 },
        (e) => resolve(e),
      ),
    );
    expect(denied?.code).toBe(status.UNAUTHENTICATED);
    const stream = grpc.watchDecisions({ workload: { namespace: ns, name: "web" } }, md);
    const first = await new Promise<Decision>((resolve, reject) => {
      stream.once("data", resolve);
      stream.once("error", reject);
      setTimeout(() => reject(new Error("no decision on the WatchDecisions stream within 10 s")), 10_000);
    });
    expect(first.workload).toEqual({ namespace: ns, name: "web" });
    stream.cancel();
    grpc.close();

    // The audit shows both calls, in the API and in the JSON-lines file.
    const audit = (await call("GET", `${path}/audit`, steerer)).body.entries as {
      user: string;
      outcome: string;
    }[];
    expect(audit.some((e) => e.user.endsWith(":outsider") && e.outcome.startsWith("refused"))).toBe(true);
    expect(audit.some((e) => e.user.endsWith(":steerer") && e.outcome === "allowed")).toBe(true);
    expect(readFileSync(join(dir, "audit.jsonl"), "utf8").trim().split("\n").length).toBeGreaterThanOrEqual(
      2,
    );
    const events = (await k.core.listNamespacedEvent({ namespace: ns })).items.map((e) => e.reason);
    expect(events).toContain("OverrideSet");
    expect(events).toContain("OverrideRefused");

    // A controller restart keeps the override: it lives in the policy's status.
    await controller?.stop();
    start("api-b");
    await waitFor(
      async () =>
        (await call("GET", path, steerer).catch(() => ({ body: undefined }))).body?.overrides?.length === 1,
      20_000,
      "the override after a restart",
    );
    await new Promise((r) => setTimeout(r, 2000));
    expect((await k.apps.readNamespacedDeployment({ name: "web", namespace: ns })).spec?.replicas).toBe(4);

    // It expires on time, and the policy scales on its signals again: back to 1.
    await waitFor(
      async () =>
        (await k.apps.readNamespacedDeployment({ name: "web", namespace: ns })).spec?.replicas === 1,
      40_000,
      "back to 1 after expiry",
    );
    expect((await call("GET", path, steerer)).body.overrides).toHaveLength(0);
  });
});
