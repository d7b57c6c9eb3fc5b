// Shared pieces of the kube tier: clients from the run's kubeconfig, the CRDs and RBAC from the chart,
// a controller ServiceAccount's kubeconfig (so RBAC is what a real install gets), controller processes,
// and PodAgents: real ballast-agent + app processes carrying the identities of the pods kwok runs.
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  ApiException,
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  loadAllYaml,
  makeInformer,
  RbacAuthorizationV1Api,
  type V1ClusterRole,
  type V1CustomResourceDefinition,
  type V1Pod,
} from "@kubernetes/client-node";
import type { PolicyStatus } from "../../controller/src/kube/policy-status.js";
import { type PodProcess, signalPod, startPodProcess } from "../support/pod-process.js";
import { ballastCli, type Proc, repoRoot, run, waitFor } from "../support/processes.js";

export const CONTROLLER_NS = "ballast-system";
const CHART = join(repoRoot, "charts/ballast");

export interface Kube {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  custom: CustomObjectsApi;
  rbac: RbacAuthorizationV1Api;
  ext: ApiextensionsV1Api;
}

export function kube(kubeconfigPath: string): Kube {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    rbac: kc.makeApiClient(RbacAuthorizationV1Api),
    ext: kc.makeApiClient(ApiextensionsV1Api),
  };
}

export function conflictOk(e: unknown): void {
  if (!(e instanceof ApiException && e.code === 409)) throw e;
}

/**
 * A chart file's objects as the client's typed models: deserialized by kind, so that JSON names such as
 * x-kubernetes-preserve-unknown-fields survive the client's serializer.
 */
function chartDocs(path: string): Record<string, unknown>[] {
  return loadAllYaml(readFileSync(join(CHART, path), "utf8")).filter((d) => d && typeof d === "object");
}

/** Applies every CRD in charts/ballast/crds and waits until each is Established. */
export async function applyCrds(k: Kube): Promise<void> {
  const dir = join(CHART, "crds");
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".yaml"))) {
    for (const doc of chartDocs(join("crds", file))) {
      const crd = doc as unknown as V1CustomResourceDefinition;
      const name = crd.metadata?.name as string;
      try {
        await k.ext.createCustomResourceDefinition({ body: crd });
      } catch (e) {
        conflictOk(e);
        const current = await k.ext.readCustomResourceDefinition({ name });
        crd.metadata = { ...crd.metadata, resourceVersion: current.metadata?.resourceVersion };
        await k.ext.replaceCustomResourceDefinition({ name, body: crd });
      }
      await waitFor(
        async () => {
          const c = await k.ext.readCustomResourceDefinition({ name });
          return c.status?.conditions?.some((x) => x.type === "Established" && x.status === "True");
        },
        30_000,
        `CRD ${name} Established`,
      );
    }
  }
}

async function ensureNamespace(k: Kube, name: string): Promise<void> {
  await k.core.createNamespace({ body: { metadata: { name } } }).catch(conflictOk);
}

/**
 * The controller's identity as a real install has it: a ServiceAccount bound to the chart's
 * ClusterRole, with a token from the TokenRequest API. Returns the path of a kubeconfig using it.
 */
export async function controllerKubeconfig(
  k: Kube,
  dir: string,
  name = "ballast-controller",
): Promise<string> {
  await ensureNamespace(k, CONTROLLER_NS);
  await k.core
    .createNamespacedServiceAccount({ namespace: CONTROLLER_NS, body: { metadata: { name } } })
    .catch(conflictOk);
  const role = chartDocs("templates/clusterrole.yaml")[0] as unknown as V1ClusterRole;
  const roleName = role.metadata?.name as string;
  try {
    await k.rbac.createClusterRole({ body: role });
  } catch (e) {
    conflictOk(e);
    await k.rbac.replaceClusterRole({ name: roleName, body: role });
  }
  await k.rbac
    .createClusterRoleBinding({
      body: {
        metadata: { name: `${name}-test` },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: roleName },
        subjects: [{ kind: "ServiceAccount", name, namespace: CONTROLLER_NS }],
      },
    })
    .catch(conflictOk);
  const token = await waitFor(
    async () =>
      (
        await k.core.createNamespacedServiceAccountToken({
          name,
          namespace: CONTROLLER_NS,
          body: { spec: { expirationSeconds: 7200, audiences: [] } },
        })
      ).status?.token,
    30_000,
    "a ServiceAccount token",
  );
  const cluster = k.kc.getCurrentCluster();
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name, token }],
    contexts: [{ name, cluster: cluster?.name, user: name }],
    currentContext: name,
  });
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.kubeconfig`);
  writeFileSync(path, kc.exportConfig());
  return path;
}

export interface ControllerOptions {
  kubeconfig: string;
  /** Port of the replica-control HTTP API (default: off). */
  apiPort?: number;
  identity: string;
  agentPort: number;
  leaseName: string;
  extra?: string[];
}

/** A `ballast kube` process. */
export function startController(o: ControllerOptions): Proc {
  return run(ballastCli, [
    "kube",
    "--kubeconfig",
    o.kubeconfig,
    "--agent-listen",
    `127.0.0.1:${o.agentPort}`,
    "--lease-namespace",
    CONTROLLER_NS,
    "--lease-name",
    o.leaseName,
    "--identity",
    o.identity,
    "--sync-period-ms",
    "250",
    "--lease-duration-seconds",
    "4",
    "--lease-retry-ms",
    "500",
    "--drain-deadline-seconds",
    "3",
    "--drain-wait-seconds",
    "3",
    "--api-listen",
    o.apiPort ? `127.0.0.1:${o.apiPort}` : "off",
    ...(o.extra ?? []),
  ]);
}

/**
 * What a kubelet would run for each pod of a selector: here, a real agent and the signal app in their
 * own process group, with the Downward API environment (POD_NAME, POD_NAMESPACE, POD_UID, NODE_NAME).
 * A pod that is deleted gets SIGTERM (its app drains); `silence` kills one with SIGKILL.
 */
export class PodAgents {
  private readonly procs = new Map<string, PodProcess>();
  private informer: ReturnType<typeof makeInformer<V1Pod>> | undefined;
  readonly loadFile: string;
  /** pod-deletion-cost annotations seen on the pods, by pod name. */
  readonly deletionCosts = new Map<string, string>();
  readonly drainDir: string;

  constructor(
    private readonly k: Kube,
    private readonly namespace: string,
    private readonly selector: string,
    private readonly controllers: string[],
    private readonly dir: string,
  ) {
    mkdirSync(join(dir, "drained"), { recursive: true });
    mkdirSync(join(dir, "rebalanced"), { recursive: true });
    this.loadFile = join(dir, "load.json");
    this.drainDir = join(dir, "drained");
    this.setLoad(0);
  }

  /** Each pod's queue_backlog: `perPod[name]` or `value`. */
  setLoad(value: number, perPod: Record<string, number> = {}): void {
    this.total = undefined;
    this.write(value, perPod);
  }

  /** A shared backlog of `total` split evenly over the running pods (re-split as pods come and go). */
  setTotal(total: number): void {
    this.total = total;
    this.write(total / Math.max(1, this.procs.size), {});
  }

  private total: number | undefined;

  private write(value: number, perPod: Record<string, number>): void {
    const tmp = `${this.loadFile}.tmp`;
    writeFileSync(tmp, JSON.stringify({ default: value, pods: perPod }));
    renameSync(tmp, this.loadFile);
  }

  /** The last lines of every pod's agent and app logs, for failure messages. */
  logs(): string {
    return readdirSync(this.dir)
      .filter((d) => d !== "drained" && d !== "rebalanced" && !d.startsWith("load.json"))
      .flatMap((d) =>
        ["agent.log", "app.log"].map((f) => {
          try {
            return `--- ${d}/${f}\n${readFileSync(join(this.dir, d, f), "utf8").slice(-1500)}`;
          } catch {
            return "";
          }
        }),
      )
      .join("\n");
  }

  /** Pods whose app got a rebalance command. */
  rebalanced(): string[] {
    return readdirSync(join(this.dir, "rebalanced"));
  }

  drained(): string[] {
    return readdirSync(this.drainDir);
  }

  running(): string[] {
    return [...this.procs.keys()];
  }

  async start(): Promise<void> {
    const informer = makeInformer<V1Pod>(
      this.k.kc,
      `/api/v1/namespaces/${this.namespace}/pods`,
      () => this.k.core.listNamespacedPod({ namespace: this.namespace, labelSelector: this.selector }),
      this.selector,
    );
    const sync = (pod: V1Pod) => this.sync(pod);
    informer.on("add", sync);
    informer.on("update", sync);
    informer.on("delete", (pod) => this.terminate(pod.metadata?.name ?? ""));
    // Restart after a dropped watch, but never after stop(): a watch that fails once the cluster is
    // gone would otherwise restart every 500 ms and keep the process alive.
    informer.on("error", () =>
      setTimeout(() => {
        if (!this.stopped) void informer.start().catch(() => {});
      }, 500),
    );
    this.informer = informer;
    await informer.start();
  }

  private sync(pod: V1Pod): void {
    const name = pod.metadata?.name ?? "";
    const cost = pod.metadata?.annotations?.["controller.kubernetes.io/pod-deletion-cost"];
    if (cost !== undefined) this.deletionCosts.set(name, cost);
    if (pod.metadata?.deletionTimestamp) {
      this.terminate(name);
      return;
    }
    if (this.procs.has(name) || pod.status?.phase !== "Running" || !pod.spec?.nodeName) return;
    const proc = startPodProcess({
      name,
      namespace: this.namespace,
      uid: pod.metadata?.uid,
      nodeName: pod.spec.nodeName,
      dir: this.dir,
      controllers: this.controllers,
      env: {
        LOAD_FILE: this.loadFile,
        DRAIN_DIR: this.drainDir,
        REBALANCE_DIR: join(this.dir, "rebalanced"),
      },
    });
    this.procs.set(name, proc);
    if (this.total !== undefined) this.setTotal(this.total);
  }

  private terminate(name: string): void {
    const p = this.procs.get(name);
    if (!p) return;
    this.procs.delete(name);
    if (this.total !== undefined) this.setTotal(this.total);
    signalPod(p, "SIGTERM");
    setTimeout(() => signalPod(p, "SIGKILL"), 8000).unref();
  }

  /** The pod's agent and app die at once: the controller must treat the pod as missing. */
  silence(name: string): void {
    const p = this.procs.get(name);
    if (!p) return;
    signalPod(p, "SIGKILL");
  }

  private stopped = false;

  async stop(): Promise<void> {
    this.stopped = true;
    await this.informer?.stop();
    const all = [...this.procs.values()];
    this.procs.clear();
    for (const p of all) signalPod(p, "SIGKILL");
    await Promise.all(all.map((p) => p.exited));
  }
}

/** A Deployment of `replicas` pods labelled app=<name>, no requests, on the kwok nodes. */
export async function createDeployment(
  k: Kube,
  namespace: string,
  name: string,
  replicas: number,
): Promise<void> {
  await k.apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: "app", image: "example.invalid/app:1" }] },
        },
      },
    },
  });
}

export async function createNamespace(k: Kube, prefix: string): Promise<string> {
  const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
  await k.core.createNamespace({ body: { metadata: { name } } });
  await waitFor(
    async () =>
      (await k.core.listNamespacedServiceAccount({ namespace: name })).items.some(
        (s) => s.metadata?.name === "default",
      ),
    30_000,
    "the namespace's default ServiceAccount",
  );
  return name;
}

/** A ScalingPolicy on a Signal metric (queue_backlog per pod). */
export function signalPolicy(
  name: string,
  target: { apiVersion: string; kind: string; name: string },
  o: { min?: number; max?: number; averageValue?: string; downWindow?: number } = {},
): Record<string, unknown> {
  return {
    apiVersion: "autoscaling.ballast.dev/v1alpha1",
    kind: "ScalingPolicy",
    metadata: { name },
    spec: {
      targetRef: target,
      minReplicas: o.min ?? 1,
      maxReplicas: o.max ?? 6,
      metrics: [
        {
          type: "Signal",
          signal: {
            name: "queue_backlog",
            target: { type: "AverageValue", averageValue: o.averageValue ?? "10" },
          },
        },
      ],
      behavior: {
        scaleUp: { stabilizationWindowSeconds: 0 },
        scaleDown: { stabilizationWindowSeconds: o.downWindow ?? 3 },
      },
    },
  };
}

export async function createPolicy(k: Kube, namespace: string, body: Record<string, unknown>): Promise<void> {
  await k.custom.createNamespacedCustomObject({
    group: "autoscaling.ballast.dev",
    version: "v1alpha1",
    plural: "scalingpolicies",
    namespace,
    body,
  });
}

/** A ScalingPolicy as read back: its status is what the controller wrote. */
export interface PolicyObject {
  spec?: Record<string, unknown>;
  status?: Partial<PolicyStatus>;
}

export async function readPolicy(k: Kube, namespace: string, name: string): Promise<PolicyObject> {
  return (await k.custom.getNamespacedCustomObject({
    group: "autoscaling.ballast.dev",
    version: "v1alpha1",
    plural: "scalingpolicies",
    namespace,
    name,
  })) as PolicyObject;
}

/** A ServiceAccount in `namespace` and a token for it (TokenRequest). */
export async function serviceAccountToken(k: Kube, namespace: string, name: string): Promise<string> {
  await k.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } }).catch(conflictOk);
  return waitFor(
    async () =>
      (
        await k.core.createNamespacedServiceAccountToken({
          name,
          namespace,
          body: { spec: { expirationSeconds: 3600, audiences: [] } },
        })
      ).status?.token,
    30_000,
    `a token for ${namespace}/${name}`,
  );
}
