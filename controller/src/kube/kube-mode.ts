import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { Backoff } from "@ballast/proto";
import {
  AppsV1Api,
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { SubjectAccessReviewAuthorizer } from "../api/access-review.js";
import { AuditLog } from "../api/audit-log.js";
import { addReplicaControl, decisionFeed } from "../api/grpc-api.js";
import { HttpApi } from "../api/http-api.js";
import { startKedaScaler } from "../api/keda-scaler.js";
import { RateLimiter } from "../api/rate-limiter.js";
import { type ControlledWorkload, ReplicaControlService } from "../api/replica-control-service.js";
import { TokenReviewAuthenticator } from "../api/token-review.js";
import type { Clock } from "../clock.js";
import { AgentLinkServer } from "../ingest/agent-link-server.js";
import { PodRegistry } from "../ingest/pod-registry.js";
import { registrySignals } from "../metrics/workload-signals.js";
import type { Decision } from "../scaling/types.js";
import { LeaseElection } from "../store/lease-election.js";
import {
  parseScalingPolicy,
  policyKey,
  SCALING_POLICY,
  type ScalingPolicy,
} from "../store/scaling-policy.js";
import { EventRecorder } from "./event-recorder.js";
import { KubeWorkload } from "./kube-workload.js";
import { OwnerResolver } from "./owner-resolver.js";
import { invalidSpecStatus, type StatusCondition } from "./policy-status.js";
import { ScaleSubresource } from "./scale-subresource.js";

export interface KubeModeOptions {
  kc: KubeConfig;
  clock: Clock;
  /** AgentLink listen address, e.g. "0.0.0.0:7070". */
  agentListen: string;
  leaseNamespace: string;
  leaseName: string;
  /** Holder identity in the Lease (default: host name plus a random suffix). */
  identity?: string;
  syncPeriodMs: number;
  leaseDurationMs: number;
  leaseRetryMs: number;
  drainDeadlineMs: number;
  drainWaitMs: number;
  log: (line: string) => void;
  onDecision?: (policy: ScalingPolicy, decision: Decision) => void;
  /** HTTP/JSON replica-control API address ("host:port"); off when undefined. */
  apiListen?: string;
  /** JSON-lines audit file of the replica-control API. */
  auditLog?: string;
  /** KEDA external scaler address ("host:port"); off when undefined. */
  kedaListen?: string;
  /** Prometheus base URL for policies' `predictive.history`. */
  prometheusUrl?: string;
}

interface PolicyObject extends KubernetesObject {
  spec?: Record<string, unknown>;
  status?: { conditions?: StatusCondition[]; overrides?: unknown; scheduleSwitches?: unknown };
}

/**
 * Kube mode: ScalingPolicies from the API server (watched), signals from agents over AgentLink, one
 * reconciler per policy, and a Lease so that of several controllers only the leader writes. Standbys
 * keep ingesting signals, so a takeover decides on warm data at once.
 */
export class KubeMode {
  readonly registry = new PodRegistry();
  private readonly server: AgentLinkServer;
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly election: LeaseElection;
  private readonly workloads = new Map<string, KubeWorkload>();
  private readonly invalid = new Map<string, string>();
  private readonly owners: OwnerResolver;
  private readonly scale: ScaleSubresource;
  private readonly events: EventRecorder;
  private informer: ReturnType<typeof makeInformer<PolicyObject>> | undefined;
  private readonly backoff = new Backoff({ initialMs: 500, maxMs: 10_000, factor: 2 });
  private syncTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  readonly identity: string;
  agentPort = 0;
  apiPort = 0;
  private readonly api: HttpApi;
  private keda: { port: number; close: () => Promise<void> } | undefined;
  /** Decisions as they are made (ReplicaControl.WatchDecisions). */
  readonly feed = decisionFeed();

  constructor(private readonly o: KubeModeOptions) {
    this.identity = o.identity ?? `${hostname()}_${randomBytes(4).toString("hex")}`;
    this.core = o.kc.makeApiClient(CoreV1Api);
    this.custom = o.kc.makeApiClient(CustomObjectsApi);
    this.owners = new OwnerResolver(o.kc.makeApiClient(AppsV1Api));
    this.scale = new ScaleSubresource(o.kc, this.custom);
    this.events = new EventRecorder(this.core, this.identity, o.log);
    this.server = new AgentLinkServer({
      registry: this.registry,
      clock: o.clock,
      log: o.log,
      onConnect: (record) => void this.resolveWorkload(record.identity.namespace, record.identity.podName),
    });
    const service = new ReplicaControlService({
      directory: {
        get: (namespace, name) => {
          const w = this.workloads.get(policyKey(namespace, name));
          return w && controlled(w);
        },
        canWrite: () => this.election.isLeader,
      },
      authn: new TokenReviewAuthenticator(o.kc.makeApiClient(AuthenticationV1Api)),
      authz: new SubjectAccessReviewAuthorizer(o.kc.makeApiClient(AuthorizationV1Api), (v, k) =>
        this.scale.plural(v, k),
      ),
      audit: new AuditLog(o.auditLog),
      limiter: new RateLimiter(5, 20),
      clock: o.clock,
      log: o.log,
    });
    this.api = new HttpApi(service);
    addReplicaControl(this.server.server, service, this.feed);
    this.election = new LeaseElection({
      coordination: o.kc.makeApiClient(CoordinationV1Api),
      namespace: o.leaseNamespace,
      name: o.leaseName,
      identity: this.identity,
      clock: o.clock,
      leaseDurationMs: o.leaseDurationMs,
      retryPeriodMs: o.leaseRetryMs,
      renewDeadlineMs: Math.max(o.leaseRetryMs, Math.floor(o.leaseDurationMs * 0.66)),
      onStartedLeading: () => this.startSyncing(),
      onStoppedLeading: () => this.stopSyncing(),
      log: o.log,
    });
  }

  get isLeader(): boolean {
    return this.election.isLeader;
  }

  async start(): Promise<void> {
    this.agentPort = await this.server.listen(this.o.agentListen);
    this.o.log(`kube: ${this.identity} ingesting AgentLink on port ${this.agentPort}`);
    if (this.o.apiListen) {
      this.apiPort = await this.api.listen(this.o.apiListen);
      this.o.log(`kube: replica-control API on port ${this.apiPort}`);
    }
    if (this.o.kedaListen) {
      this.keda = await startKedaScaler(this.o.kedaListen, {
        signals: registrySignals(this.registry),
        clock: this.o.clock,
        log: this.o.log,
      });
    }
    this.watchPolicies();
    this.election.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopSyncing();
    await this.election.stop();
    await this.informer?.stop();
    await Promise.all([...this.workloads.values()].map((w) => w.stop()));
    await this.api.close();
    await this.keda?.close();
    await this.server.close();
  }

  workload(namespace: string, name: string): KubeWorkload | undefined {
    return this.workloads.get(policyKey(namespace, name));
  }

  /**
   * Watches ScalingPolicies in all namespaces. After an error (the client's informer then stops) a
   * fresh informer lists again after a jittered backoff, and policies deleted meanwhile are dropped.
   */
  private watchPolicies(): void {
    if (this.stopped) return;
    const { group, version, plural } = SCALING_POLICY;
    const informer = makeInformer<PolicyObject>(
      this.o.kc,
      `/apis/${group}/${version}/${plural}`,
      () => this.custom.listClusterCustomObject({ group, version, plural }) as never,
    );
    let failed = false;
    informer.on("add", (obj) => this.upsert(obj));
    informer.on("update", (obj) => this.upsert(obj));
    informer.on("delete", (obj) => void this.remove(obj));
    informer.on("error", (err) => {
      if (this.stopped || failed) return;
      failed = true;
      void informer.stop();
      const delay = this.backoff.nextDelayMs();
      this.o.log(`kube: ScalingPolicy watch failed (${describeError(err)}); listing again in ${delay} ms`);
      setTimeout(() => this.watchPolicies(), delay);
    });
    this.informer = informer;
    void informer.start().then(() => {
      if (failed || this.stopped) return;
      this.backoff.reset();
      const present = new Set(
        informer.list().map((o) => policyKey(o.metadata?.namespace ?? "", o.metadata?.name ?? "")),
      );
      for (const key of [...this.workloads.keys(), ...this.invalid.keys()]) {
        if (!present.has(key)) {
          const [namespace, name] = key.split("/");
          void this.remove({ metadata: { namespace, name } });
        }
      }
    });
  }

  private upsert(obj: PolicyObject): void {
    const key = policyKey(obj.metadata?.namespace ?? "", obj.metadata?.name ?? "");
    const parsed = parseScalingPolicy(obj);
    if (!parsed.policy) {
      // Never act on a spec the controller cannot read; say why in its status.
      const existing = this.workloads.get(key);
      this.workloads.delete(key);
      void existing?.stop();
      const message = parsed.problems.join("; ");
      if (this.invalid.get(key) !== message) {
        this.o.log(`kube: policy ${key} is invalid: ${message}`);
        this.invalid.set(key, message);
        void this.writeInvalid(obj, parsed.problems);
      }
      return;
    }
    this.invalid.delete(key);
    const existing = this.workloads.get(key);
    if (existing?.policy.generation !== parsed.policy.generation) {
      const t = parsed.policy.targetRef;
      this.o.log(`kube: policy ${key} generation ${parsed.policy.generation} → ${t.kind}/${t.name}`);
    }
    if (existing) {
      existing.update(parsed.policy);
      existing.observeStatus(obj.status);
    } else
      this.workloads.set(
        key,
        new KubeWorkload(
          parsed.policy,
          {
            kc: this.o.kc,
            core: this.core,
            custom: this.custom,
            scale: this.scale,
            events: this.events,
            registry: this.registry,
            clock: this.o.clock,
            log: this.o.log,
            drainDeadlineMs: this.o.drainDeadlineMs,
            drainWaitMs: this.o.drainWaitMs,
            isLeader: () => this.election.isLeader,
            ...(this.o.prometheusUrl ? { prometheusUrl: this.o.prometheusUrl } : {}),
            onDecision: (policy, decision) => {
              this.feed.emit("decision", policy.namespace, policy.name, decision);
              this.o.onDecision?.(policy, decision);
            },
          },
          obj.status,
        ),
      );
  }

  private async remove(obj: PolicyObject): Promise<void> {
    const key = policyKey(obj.metadata?.namespace ?? "", obj.metadata?.name ?? "");
    this.invalid.delete(key);
    const w = this.workloads.get(key);
    this.workloads.delete(key);
    await w?.stop();
  }

  private async writeInvalid(obj: PolicyObject, problems: string[]): Promise<void> {
    if (!this.election.isLeader) return;
    const { group, version, plural } = SCALING_POLICY;
    try {
      await this.custom.patchNamespacedCustomObjectStatus(
        {
          group,
          version,
          plural,
          namespace: obj.metadata?.namespace ?? "",
          name: obj.metadata?.name ?? "",
          body: { status: invalidSpecStatus(obj.metadata?.generation ?? 0, problems, this.o.clock.now()) },
        },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
    } catch (e) {
      this.o.log(`kube: status of invalid policy ${obj.metadata?.name}: ${(e as Error).message}`);
    }
  }

  private startSyncing(): void {
    this.stopSyncing();
    // A new leader reports policies it saw as invalid while it was standing by.
    this.invalid.clear();
    for (const obj of this.informer?.list() ?? []) if (!parseScalingPolicy(obj).policy) this.upsert(obj);
    const tick = () => {
      for (const w of this.workloads.values()) void w.sync();
    };
    tick();
    this.syncTimer = setInterval(tick, this.o.syncPeriodMs);
  }

  private stopSyncing(): void {
    clearInterval(this.syncTimer);
    this.syncTimer = undefined;
  }

  private async resolveWorkload(namespace: string, podName: string): Promise<void> {
    try {
      const pod = await this.core.readNamespacedPod({ name: podName, namespace });
      const ref = await this.owners.workloadOf(pod);
      const record = this.registry.get(namespace, podName);
      if (record && ref && !record.identity.workload) {
        record.identity = { ...record.identity, workload: { ...ref } };
      }
      this.o.log(
        `kube: ${namespace}/${podName} belongs to ${ref ? `${ref.kind}/${ref.name}` : "no workload"}`,
      );
    } catch (e) {
      this.o.log(`kube: ${namespace}/${podName}: pod not found for its agent (${(e as Error).message})`);
    }
  }
}

function describeError(err: unknown): string {
  const e = err as { code?: number; message?: string; body?: unknown };
  if (typeof e?.code === "number")
    return `HTTP ${e.code}${typeof e.body === "string" ? `: ${e.body.slice(0, 160)}` : ""}`;
  return e?.message ?? String(err);
}

/** A kube workload as the replica-control API sees it. */
function controlled(w: KubeWorkload): ControlledWorkload {
  const p = w.policy;
  return {
    namespace: p.namespace,
    name: p.name,
    targetRef: p.targetRef,
    minReplicas: p.spec.minReplicas ?? 1,
    maxReplicas: p.spec.maxReplicas,
    specReplicas: () => w.lastDecision?.currentReplicas,
    decisions: () => [...w.decisions],
    overrides: () => w.currentOverrides(),
    setOverrides: (list) => w.setOverrides(list),
    scheduleNames: () => w.scheduleNames(),
    setScheduleSwitch: (schedule, enabled) => w.setScheduleSwitch(schedule, enabled),
    event: (type, reason, message) => w.event(type, reason, message),
  };
}
