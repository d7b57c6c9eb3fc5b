import { LocalProcessPool, type LocalReplica } from "../actuation/local-process-pool.js";
import type { Clock } from "../clock.js";
import type { PodRegistry } from "../ingest/pod-registry.js";
import { agentMetricValues } from "../metrics/agent-signal-source.js";
import { forecastFromHistory } from "../metrics/forecast-history.js";
import { signalValue } from "../metrics/signals.js";
import { DemandFloors } from "../scaling/demand-floors.js";
import { effectiveMetrics } from "../scaling/metrics.js";
import { activeOverrides, type Override, overrideStage } from "../scaling/overrides.js";
import { decide } from "../scaling/pipeline.js";
import { rulesStage } from "../scaling/rules.js";
import { scheduleStage } from "../scaling/schedule.js";
import type { AutoscalerState, Decision, DecisionInput, PodInfo } from "../scaling/types.js";
import type { LocalWorkload as LocalWorkloadConfig } from "../store/local-config.js";
import type { LocalState } from "../store/local-state.js";
import { FrontProxy } from "./front-proxy.js";

export interface LocalWorkloadOptions {
  config: LocalWorkloadConfig;
  baseDir: string;
  runDir: string;
  controllerAddress: string;
  reportIntervalMs: number;
  registry: PodRegistry;
  clock: Clock;
  log: (line: string) => void;
  onDecision: (decision: Decision) => void;
  /** Where replica-control overrides persist across restarts. */
  state: LocalState;
  /** Prometheus base URL for the policy's `predictive.history`. */
  prometheusUrl?: string;
}

/** One workload in local mode: its replicas, its front proxy, and one decision per sync. */
export class LocalWorkload {
  readonly pool: LocalProcessPool;
  readonly front: FrontProxy;
  frontPort = 0;
  private state: AutoscalerState | undefined;
  /** The forecast behind `predictive` (warmed from Prometheus when history is configured) and the burst headroom. */
  private readonly floors: DemandFloors;
  private actuation: Promise<void> = Promise.resolve();
  lastDecision: Decision | undefined;
  /** Recent decisions that said something new, oldest first. */
  readonly decisions: Decision[] = [];

  constructor(private readonly options: LocalWorkloadOptions) {
    const c = options.config;
    const predictive = c.policy.predictive;
    this.floors = new DemandFloors(c.policy);
    if (predictive?.history && !options.prometheusUrl)
      options.log(
        `${c.name}: predictive.history needs --prometheus-url; the forecast learns from the run only`,
      );
    this.pool = new LocalProcessPool({
      workload: c.name,
      command: c.command,
      env: c.env,
      cwd: options.baseDir,
      controllerAddress: options.controllerAddress,
      runDir: options.runDir,
      registry: options.registry,
      clock: options.clock,
      drainDeadlineMs: c.drainDeadlineMs,
      reportIntervalMs: options.reportIntervalMs,
      log: options.log,
    });
    this.front = new FrontProxy(() => {
      const now = options.clock.now();
      return this.pool.readyReplicas(now).map((r) => ({ name: r.name, port: r.port }));
    });
  }

  get policy(): LocalWorkloadConfig["policy"] {
    return this.options.config.policy;
  }

  get name(): string {
    return this.options.config.name;
  }

  async start(): Promise<void> {
    this.frontPort = await this.front.listen(this.options.config.port);
    await this.warmForecast();
    await this.pool.setReplicas(this.options.config.policy.minReplicas ?? 1, "start at minReplicas");
  }

  /**
   * Resolves once minReplicas replicas are ready, so load is not sent at a workload still starting;
   * rejects naming the workload when that takes longer than `timeoutMs`.
   */
  async untilReady(timeoutMs: number): Promise<void> {
    const { clock } = this.options;
    const want = this.options.config.policy.minReplicas ?? 1;
    const deadline = clock.now() + timeoutMs;
    while (this.pool.readyReplicas(clock.now()).length < want) {
      if (clock.now() >= deadline) {
        throw new Error(
          `${this.name}: ${want} replica(s) not ready after ${timeoutMs / 1000} s; check its command and its logs above`,
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** The replicas as pods, in the shape the scaling core reads. */
  pods(now: number): PodInfo[] {
    return this.pool.list().map((r: LocalReplica) => {
      const record = this.pool.record(r);
      const ready = this.pool.isReady(r, now);
      return {
        name: r.name,
        // A replica whose agent has not reported yet has not started serving: like a Pending pod.
        phase: record && record.reports.length > 0 ? "Running" : "Pending",
        ready,
        startTime: r.startedAt,
        readyTransitionTime: r.readyAt ?? r.startedAt,
        deleting: r.phase === "draining" || r.phase === "stopped",
      };
    });
  }

  /** Mean value per ready replica of the policy's first metric, for the terminal and the timeline. */
  signal(now: number): { name: string; value: number | undefined } {
    const m = this.options.config.policy.metrics?.[0];
    const name = m?.type === "Signal" ? m.signal.name : m?.type === "Pods" ? m.pods.metric.name : "cpu_cores";
    const values = this.pool
      .readyReplicas(now)
      .map((r) => {
        const rec = this.pool.record(r);
        const report = rec && this.options.registry.freshReport(rec, now);
        return report ? signalValue(report, name) : undefined;
      })
      .filter((v): v is number => v !== undefined);
    return { name, value: values.length ? values.reduce((s, v) => s + v, 0) / values.length : undefined };
  }

  /** One sync: decide from the latest signals and actuate. */
  sync(): Decision {
    const now = this.options.clock.now();
    const policy = this.options.config.policy;
    const scale = this.pool.getScale();
    const records = this.pool
      .active()
      .map((r) => this.pool.record(r))
      .filter((r) => r !== undefined);
    const input: DecisionInput = {
      workload: this.name,
      policy,
      scale: { specReplicas: scale.specReplicas, statusReplicas: scale.statusReplicas },
      pods: this.pods(now),
      metrics: agentMetricValues(effectiveMetrics(policy), records, this.options.registry, now),
      stages: [
        ...this.floors.stages(now),
        scheduleStage(policy.schedules ?? [], this.options.state.scheduleSwitches(this.name)),
        rulesStage(policy.rules),
        overrideStage(this.overrides()),
      ],
    };
    const { decision, state } = decide(input, this.state, now);
    this.floors.observe(input, now);
    this.state = state;
    this.lastDecision = decision;
    if (decision.rescale || this.decisions[this.decisions.length - 1]?.summary !== decision.summary) {
      this.decisions.push(decision);
      if (this.decisions.length > 200) this.decisions.splice(0, this.decisions.length - 200);
    }
    if (decision.rescale) {
      this.options.onDecision(decision);
      const target = decision.desiredReplicas;
      this.actuation = this.actuation.then(() => this.pool.setReplicas(target, decision.summary));
    }
    return decision;
  }

  /** Reads the policy's demand history from Prometheus before the first decision; a failure is logged. */
  private async warmForecast(): Promise<void> {
    const { config, prometheusUrl, clock, log } = this.options;
    if (!this.floors.forecast || !config.policy.predictive?.history || !prometheusUrl) return;
    const field = `workloads.${config.name}.policy.predictive.history.prometheus`;
    try {
      const { forecast, points, days } = await forecastFromHistory(
        config.policy,
        prometheusUrl,
        clock.now(),
        field,
      );
      this.floors.forecast = forecast;
      log(`${config.name}: demand history: ${points} points over ${days} days from Prometheus`);
    } catch (e) {
      log(`${config.name}: demand history: ${(e as Error).message}; the forecast learns from the run only`);
    }
  }

  overrides(): Override[] {
    return activeOverrides(this.options.state.overrides(this.name), this.options.clock.now());
  }

  async setOverrides(overrides: Override[]): Promise<void> {
    this.options.state.setOverrides(this.name, overrides);
    this.sync();
  }

  scheduleNames(): string[] {
    return (this.policy.schedules ?? []).map((w) => w.name);
  }

  async setScheduleSwitch(schedule: string, enabled: boolean): Promise<void> {
    this.options.state.setScheduleSwitch(this.name, schedule, enabled);
    this.sync();
  }

  async stop(): Promise<void> {
    await this.actuation;
    await this.front.close();
    await this.pool.stopAll();
  }
}
