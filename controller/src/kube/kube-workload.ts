import { DrainState } from "@ballast/proto";
import {
  type CoreV1Api,
  type CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
} from "@kubernetes/client-node";
import {
  BILLING_LABEL,
  chooseVictims,
  type VictimCandidate,
  victimDeletionCost,
} from "../actuation/scale-in-victims.js";
import type { Clock } from "../clock.js";
import type { PodRecord, PodRegistry } from "../ingest/pod-registry.js";
import { agentMetricValues } from "../metrics/agent-signal-source.js";
import { forecastFromHistory } from "../metrics/forecast-history.js";
import { signalValue } from "../metrics/signals.js";
import { DemandFloors, learnedFrom } from "../scaling/demand-floors.js";
import { effectiveMetrics } from "../scaling/metrics.js";
import { activeOverrides, type Override, overrideStage } from "../scaling/overrides.js";
import { type DecideResult, decide, withFailedRescale, withoutScale } from "../scaling/pipeline.js";
import type { WorkloadForecast } from "../scaling/predictive.js";
import { rulesStage } from "../scaling/rules.js";
import { scheduleStage } from "../scaling/schedule.js";
import type { AutoscalerState, Decision, DecisionInput } from "../scaling/types.js";
import { SCALING_POLICY, type ScalingPolicy } from "../store/scaling-policy.js";
import type { EventRecorder } from "./event-recorder.js";
import { podInfo } from "./pod-info.js";
import { PodWatch } from "./pod-watch.js";
import {
  fromStatusOverrides,
  type PolicyStatus,
  policyStatus,
  type StatusCondition,
  toStatusOverride,
} from "./policy-status.js";
import type { ScaleReading, ScaleSubresource } from "./scale-subresource.js";

export const DELETION_COST = "controller.kubernetes.io/pod-deletion-cost";

export interface KubeWorkloadDeps {
  kc: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  scale: ScaleSubresource;
  events: EventRecorder;
  registry: PodRegistry;
  clock: Clock;
  log: (line: string) => void;
  /** Deadline given to a victim's apps to finish their work. */
  drainDeadlineMs: number;
  /** How long scale-in waits for victims to report drained before lowering replicas. */
  drainWaitMs: number;
  /** Whether this controller may write (it holds the lease); checked again before every write. */
  isLeader: () => boolean;
  /** Called after each decision (dashboard, tests, benchmarks). */
  onDecision?: (policy: ScalingPolicy, decision: Decision) => void;
  /** Prometheus base URL for `predictive.history` (PromQL range queries at start-up). */
  prometheusUrl?: string;
}

/** Rebalancing after a scale-out: how long to wait for the new pods, and over how long to spread it. */
const REBALANCE_READY_TIMEOUT_MS = 120_000;
const REBALANCE_SPREAD_MS = 3_000;

/** How long a read of the target's /scale is used before it is read again. */
const SCALE_REFRESH_MS = 5_000;

/** Status is rewritten when it changes, and at least this often so the last decision stays fresh. */
const STATUS_REFRESH_MS = 15_000;

/**
 * One ScalingPolicy's reconciler: reads the target's `/scale`, watches its pods, decides with the
 * scaling core over the agents' signals, actuates (draining victims before a scale-in), and writes
 * status and Events. It never changes replicas when it cannot read the scale or has no data.
 */
export class KubeWorkload {
  private state: AutoscalerState | undefined;
  private watch: PodWatch | undefined;
  private busy = false;
  private conditions: StatusCondition[] | undefined;
  private lastStatus = "";
  private lastStatusAt = 0;
  private lastWarning = "";
  private reading: ScaleReading | undefined;
  private readAt = 0;
  lastDecision: Decision | undefined;
  /** Recent decisions, oldest first (for the replica-control API). */
  readonly decisions: Decision[] = [];
  /** Overrides from the replica-control API; persisted in status.overrides. */
  private overrides: Override[];
  /** Schedules switched on or off at run time; persisted in status.scheduleSwitches. */
  private switches: Record<string, boolean>;
  /** The learned floors (`predictive`, `burstHeadroom`): made on first use, dropped when their settings change. */
  private floors: DemandFloors | undefined;

  constructor(
    public policy: ScalingPolicy,
    private readonly deps: KubeWorkloadDeps,
    previous?: { conditions?: StatusCondition[]; overrides?: unknown; scheduleSwitches?: unknown },
  ) {
    this.conditions = previous?.conditions;
    this.overrides = fromStatusOverrides(previous?.overrides);
    this.switches = switchesFrom(previous?.scheduleSwitches);
  }

  /** A status written by the leader: a standby adopts it, so a takeover keeps the overrides. */
  observeStatus(
    status: { conditions?: StatusCondition[]; overrides?: unknown; scheduleSwitches?: unknown } | undefined,
  ): void {
    if (this.deps.isLeader() || !status) return;
    this.conditions = status.conditions;
    this.overrides = fromStatusOverrides(status.overrides);
    this.switches = switchesFrom(status.scheduleSwitches);
  }

  scheduleNames(): string[] {
    return (this.policy.spec.schedules ?? []).map((w) => w.name);
  }

  /** Switches a schedule and writes the switch to status at once; the next sync applies it. */
  async setScheduleSwitch(schedule: string, enabled: boolean): Promise<void> {
    const switches = { ...this.switches, [schedule]: enabled };
    await this.patchStatus({ scheduleSwitches: switches });
    this.switches = switches;
    void this.sync();
  }

  private async patchStatus(status: Record<string, unknown>): Promise<void> {
    const { group, version, plural } = SCALING_POLICY;
    await this.deps.custom.patchNamespacedCustomObjectStatus(
      { group, version, plural, namespace: this.policy.namespace, name: this.policy.name, body: { status } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  }

  currentOverrides(): Override[] {
    return activeOverrides(this.overrides, this.deps.clock.now());
  }

  /** Replaces the overrides and writes them to status at once; the next sync applies them. */
  async setOverrides(overrides: Override[]): Promise<void> {
    await this.patchStatus({ overrides: overrides.map(toStatusOverride) });
    this.overrides = overrides;
    void this.sync();
  }

  async event(type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    if (this.deps.isLeader()) await this.deps.events.record(this.policy, type, reason, message);
  }

  get key(): string {
    return `${this.policy.namespace}/${this.policy.name}`;
  }

  /** A new generation of the policy; a new target starts from a clean history. */
  update(policy: ScalingPolicy): void {
    const ref = (p: ScalingPolicy) => JSON.stringify(p.targetRef);
    if (ref(policy) !== ref(this.policy)) {
      this.state = undefined;
      this.reading = undefined;
      void this.watch?.stop();
      this.watch = undefined;
    }
    // What the floors learned is only valid for the metric and settings they learned under.
    if (learnedFrom(policy.spec) !== learnedFrom(this.policy.spec)) this.floors = undefined;
    this.policy = policy;
  }

  async stop(): Promise<void> {
    await this.watch?.stop();
    this.watch = undefined;
  }

  /** One reconcile; overlapping calls are skipped while an actuation (e.g. a drain) is in progress. */
  async sync(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.reconcile();
    } catch (e) {
      this.deps.log(`${this.key}: sync failed: ${(e as Error).message}`);
    } finally {
      this.busy = false;
    }
  }

  private async reconcile(): Promise<void> {
    const { clock } = this.deps;
    const p = this.policy;
    let reading: ScaleReading;
    try {
      reading = await this.scaleReading();
    } catch (e) {
      const message = (e as Error).message;
      await this.finish(
        withoutScale(this.key, message, this.state, clock.now(), this.lastDecision?.currentReplicas),
      );
      await this.warn("FailedGetScale", message);
      return;
    }
    const floors = this.floorsFor();
    const input: DecisionInput = {
      workload: this.key,
      policy: p.spec,
      scale: { specReplicas: reading.specReplicas, statusReplicas: reading.statusReplicas },
      pods: [],
      metrics: [],
      // Floors (forecast, burst headroom, scenarios) first, then rules, then explicit overrides before behavior.
      stages: [
        ...floors.stages(clock.now()),
        scheduleStage(p.spec.schedules ?? [], this.switches),
        rulesStage(p.spec.rules),
        overrideStage(this.overrides),
      ],
    };
    let records: PodRecord[] = [];
    let pods: readonly V1Pod[] = [];
    if (!reading.selector) {
      input.selectorProblem = {
        reason: "InvalidSelector",
        message: `${p.targetRef.kind}/${p.targetRef.name} publishes no selector in its scale status`,
      };
    } else {
      const watch = this.podWatch(reading.selector);
      if (!watch.synced) return; // wait for the pod cache rather than decide on an empty one
      pods = watch.pods();
      input.pods = pods.map(podInfo);
      records = pods
        .map((pod) => this.deps.registry.get(p.namespace, pod.metadata?.name ?? ""))
        .filter((r): r is PodRecord => r !== undefined);
    }
    const now = clock.now();
    input.metrics = agentMetricValues(effectiveMetrics(p.spec), records, this.deps.registry, now);
    let result = decide(input, this.state, now);
    floors.observe(input, now);
    if (result.decision.rescale) {
      const from = reading.specReplicas;
      const to = result.decision.desiredReplicas;
      try {
        if (!this.deps.isLeader()) return;
        if (to < from) await this.prepareScaleIn(pods, from - to, result.decision.summary);
        const before = pods
          .filter((pod) => !pod.metadata?.deletionTimestamp)
          .map((pod) => pod.metadata?.name ?? "");
        if (!this.deps.isLeader()) return;
        // Read afresh next time: the write changed the target's resourceVersion.
        this.reading = undefined;
        await this.deps.scale.write(p.targetRef, p.namespace, to, reading);
        if (to > from) void this.rebalanceWhenReady(before, to - from);
        await this.deps.events.record(
          p,
          "Normal",
          "SuccessfulRescale",
          `New size: ${to}; reason: ${result.decision.summary}`,
        );
        this.deps.log(`${this.key}: ${result.decision.summary}`);
      } catch (e) {
        const message = (e as Error).message;
        result = withFailedRescale(result, this.state, message);
        await this.warn(
          "FailedRescale",
          `New size: ${to}; reason: ${result.decision.summary}; error: ${message}`,
        );
      }
    }
    await this.finish(result);
  }

  /**
   * The target's /scale, read at most every SCALE_REFRESH_MS (and after every write) rather than on
   * every sync: decisions run each second, and a read per policy per second would load the API server.
   * A write carries the resourceVersion read, so a size changed meanwhile is never overwritten blindly.
   */
  private async scaleReading(): Promise<ScaleReading> {
    const now = this.deps.clock.now();
    if (this.reading && now - this.readAt < SCALE_REFRESH_MS) return this.reading;
    this.reading = undefined;
    const reading = await this.deps.scale.read(this.policy.targetRef, this.policy.namespace);
    this.reading = reading;
    this.readAt = now;
    return reading;
  }

  private podWatch(selector: string): PodWatch {
    if (this.watch && this.watch.selector !== selector) {
      void this.watch.stop();
      this.watch = undefined;
    }
    if (!this.watch) {
      this.watch = new PodWatch(this.deps.kc, this.deps.core, this.policy.namespace, selector, this.deps.log);
      void this.watch.start();
    }
    return this.watch;
  }

  /**
   * Before lowering replicas: choose the victims, give them the lowest pod-deletion-cost so the
   * workload's controller removes exactly them, tell their agents to drain, and wait (bounded) until
   * their apps report drained.
   */
  private async prepareScaleIn(pods: readonly V1Pod[], count: number, reason: string): Promise<void> {
    const { registry, clock } = this.deps;
    const ns = this.policy.namespace;
    const now = clock.now();
    const live = pods.filter((pod) => !pod.metadata?.deletionTimestamp);
    let victims: { name: string }[];
    if (this.policy.targetRef.kind === "StatefulSet") {
      // A StatefulSet always removes its highest ordinals; drain exactly those.
      victims = live
        .map((pod) => ({
          name: pod.metadata?.name ?? "",
          ordinal: Number(/-(\d+)$/.exec(pod.metadata?.name ?? "")?.[1]),
        }))
        .sort((a, b) => b.ordinal - a.ordinal)
        .slice(0, count);
    } else {
      const billing = await this.nodeBilling(live);
      const candidates: VictimCandidate[] = live.map((pod) => {
        const name = pod.metadata?.name ?? "";
        const record = registry.get(ns, name);
        const report = record && registry.freshReport(record, now);
        return {
          name,
          ready: podInfo(pod).ready === true,
          inflight: report ? signalValue(report, "inflight") : undefined,
          billing: billing.get(pod.spec?.nodeName ?? ""),
          createdAt: new Date(pod.metadata?.creationTimestamp ?? 0).getTime(),
        };
      });
      victims = chooseVictims(candidates, count);
      await Promise.all(
        victims.map((v, i) =>
          this.deps.core.patchNamespacedPod(
            {
              name: v.name,
              namespace: ns,
              body: { metadata: { annotations: { [DELETION_COST]: String(victimDeletionCost(i)) } } },
            },
            setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
          ),
        ),
      );
    }
    const drainCommand = {
      body: { $case: "drain" as const, value: { deadlineMs: this.deps.drainDeadlineMs, reason } },
    };
    const draining = victims.filter((v) => registry.send(ns, v.name, drainCommand));
    this.deps.log(
      `${this.key}: scale-in victims ${victims.map((v) => v.name).join(", ")} (${draining.length} draining)`,
    );
    const until = clock.now() + this.deps.drainWaitMs;
    const drained = (name: string) => {
      const report = registry.get(ns, name)?.current;
      return !!report && report.apps.every((a) => a.drain === DrainState.DRAIN_STATE_DRAINED);
    };
    while (clock.now() < until && !draining.every((v) => drained(v.name))) await sleep(50);
  }

  /**
   * After a scale-out, once the new pods are ready, asks the pods that were there before to close
   * their long-lived connections gradually (jittered over REBALANCE_SPREAD_MS): clients pinned by
   * keep-alive, HTTP/2 or gRPC reconnect through the Service and reach the new pods too.
   */
  private async rebalanceWhenReady(before: string[], added: number): Promise<void> {
    const { clock, registry } = this.deps;
    const until = clock.now() + REBALANCE_READY_TIMEOUT_MS;
    const old = new Set(before);
    const readyNew = () =>
      (this.watch?.pods() ?? []).filter(
        (pod) => !old.has(pod.metadata?.name ?? "") && podInfo(pod).ready === true,
      ).length;
    while (clock.now() < until && readyNew() < added) await sleep(250);
    if (readyNew() === 0 || !this.deps.isLeader()) return;
    for (const name of before) {
      registry.send(this.policy.namespace, name, {
        body: { $case: "rebalanceConnections", value: { fraction: 1, spreadMs: REBALANCE_SPREAD_MS } },
      });
    }
  }

  /** Billing label of the nodes the pods run on (node.ballast.dev/billing). */
  private async nodeBilling(pods: V1Pod[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const nodes = new Set(pods.map((p) => p.spec?.nodeName).filter((n): n is string => !!n));
    await Promise.all(
      [...nodes].map(async (name) => {
        try {
          const node = await this.deps.core.readNode({ name });
          const b = node.metadata?.labels?.[BILLING_LABEL];
          if (b) out.set(name, b);
        } catch {
          // Unknown billing ranks as subscription: never a reason to pick a pod first.
        }
      }),
    );
    return out;
  }

  private async finish(result: DecideResult): Promise<void> {
    this.state = result.state;
    this.lastDecision = result.decision;
    // Keep what changed: a decision that repeats the previous one's words adds nothing to the history.
    if (
      result.decision.rescale ||
      this.decisions[this.decisions.length - 1]?.summary !== result.decision.summary
    )
      this.decisions.push(result.decision);
    if (this.decisions.length > 200) this.decisions.splice(0, this.decisions.length - 200);
    this.deps.onDecision?.(this.policy, result.decision);
    this.overrides = this.currentOverrides(); // expired ones leave the status with this write
    await this.writeStatus(
      policyStatus(
        result.decision,
        this.policy.generation,
        this.conditions,
        result.state.lastScaleTime,
        this.overrides,
        this.floors?.forecast?.status(result.decision.at),
      ),
    );
  }

  /** The policy's learned floors, created on first use (the forecast warmed from Prometheus). */
  private floorsFor(): DemandFloors {
    if (!this.floors) {
      this.floors = new DemandFloors(this.policy.spec);
      const forecast = this.floors.forecast;
      if (forecast && this.policy.spec.predictive?.history) void this.warmForecast(forecast);
    }
    return this.floors;
  }

  /**
   * Reads `predictive.history` from Prometheus into a fresh forecast and swaps it in for `live`, unless
   * the settings changed meanwhile: `live` keeps learning until then, so nothing waits for Prometheus.
   */
  private async warmForecast(live: WorkloadForecast): Promise<void> {
    const spec = this.policy.spec;
    const history = spec.predictive?.history?.prometheus;
    if (!history) return;
    const url = this.deps.prometheusUrl;
    if (!url) {
      await this.warn(
        "FailedHistory",
        "spec.predictive.history.prometheus is set but the controller runs without --prometheus-url",
      );
      return;
    }
    try {
      const { forecast, points, days } = await forecastFromHistory(
        spec,
        url,
        this.deps.clock.now(),
        "spec.predictive.history.prometheus",
      );
      if (!this.floors || this.floors.forecast !== live) return;
      this.floors.forecast = forecast;
      this.deps.log(`${this.key}: demand history: ${points} points over ${days} days`);
      await this.event(
        "Normal",
        "HistoryLoaded",
        `${points} points of demand history over ${days} days from Prometheus`,
      );
    } catch (e) {
      this.deps.log(`${this.key}: demand history: ${(e as Error).message}`);
      await this.warn("FailedHistory", `reading demand history from Prometheus: ${(e as Error).message}`);
    }
  }

  private async writeStatus(status: PolicyStatus): Promise<void> {
    if (!this.deps.isLeader()) return;
    const { lastDecision, ...rest } = status;
    const fingerprint = JSON.stringify({ ...rest, d: { ...lastDecision, time: "" } });
    const now = this.deps.clock.now();
    if (fingerprint === this.lastStatus && now - this.lastStatusAt < STATUS_REFRESH_MS) return;
    try {
      await this.deps.custom.patchNamespacedCustomObjectStatus(
        {
          group: SCALING_POLICY.group,
          version: SCALING_POLICY.version,
          plural: SCALING_POLICY.plural,
          namespace: this.policy.namespace,
          name: this.policy.name,
          body: { status },
        },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
      this.conditions = status.conditions;
      this.lastStatus = fingerprint;
      this.lastStatusAt = now;
    } catch (e) {
      this.deps.log(`${this.key}: status update failed: ${(e as Error).message}`);
    }
  }

  /** A Warning Event, once per distinct message (a failing read repeats every sync). */
  private async warn(reason: string, message: string): Promise<void> {
    if (!this.deps.isLeader() || `${reason}:${message}` === this.lastWarning) return;
    this.lastWarning = `${reason}:${message}`;
    await this.deps.events.record(this.policy, "Warning", reason, message);
  }
}

function switchesFrom(raw: unknown): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  if (raw && typeof raw === "object")
    for (const [k, v] of Object.entries(raw as Record<string, unknown>))
      if (typeof v === "boolean") out[k] = v;
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
