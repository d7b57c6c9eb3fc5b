import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOCAL_NAMESPACE } from "../actuation/local-process-pool.js";
import { allowAuthenticated } from "../api/access-review.js";
import { AuditLog } from "../api/audit-log.js";
import { HttpApi } from "../api/http-api.js";
import { RateLimiter } from "../api/rate-limiter.js";
import { ReplicaControlService } from "../api/replica-control-service.js";
import { TokenFileAuthenticator } from "../api/token-review.js";
import type { Clock } from "../clock.js";
import { AgentLinkServer } from "../ingest/agent-link-server.js";
import { PodRegistry } from "../ingest/pod-registry.js";
import type { Decision } from "../scaling/types.js";
import type { LocalConfig } from "../store/local-config.js";
import { LocalState } from "../store/local-state.js";
import { LoadGenerator } from "./load-generator.js";
import { LocalWorkload } from "./local-workload.js";

/** How long a workload may take to bring up its first replicas before the run gives up. */
const READY_TIMEOUT_MS = 30_000;

export interface TimelinePoint {
  /** Seconds since the run started. */
  t: number;
  /** Requests that arrived at the front in the last second. */
  rps: number;
  /** Requests the front failed in the last second (no ready replica, or a replica error). */
  failed: number;
  replicasReady: number;
  replicasDesired: number;
  /** The policy's first metric per ready replica; null when no replica reports it. */
  signal: number | null;
}

export interface DecisionPoint {
  t: number;
  from: number;
  to: number;
  reason: string;
}

export interface RunResult {
  workload: string;
  signalName: string;
  timeline: TimelinePoint[];
  decisions: DecisionPoint[];
  load: { sent: number; ok: number; failed: number; shed: number } | undefined;
}

export interface LocalModeOptions {
  config: LocalConfig;
  clock: Clock;
  /** Play the config's load profile against the front. */
  load: boolean;
  /** One line per second for the terminal. */
  print: (line: string) => void;
  log: (line: string) => void;
  /** Where overrides persist across restarts (default .ballast/state.json beside the config). */
  stateFile?: string;
  /** The replica-control HTTP API: address and token file; off without an address. */
  api?: { listen: string; tokenFile: string; auditLog?: string };
  /** Prometheus base URL for policies' `predictive.history`. */
  prometheusUrl?: string;
}

/**
 * Local mode: the controller with its AgentLink server, one process pool and front per workload, an
 * optional load generator, a decision per workload every sync period, and a timeline of the run.
 */
export class LocalMode {
  private readonly registry = new PodRegistry();
  private readonly state: LocalState;
  private api: HttpApi | undefined;
  apiPort = 0;
  private readonly server: AgentLinkServer;
  private readonly runDir = mkdtempSync(join(tmpdir(), "ballast-local-"));
  private workloads: LocalWorkload[] = [];
  private loadGen: LoadGenerator | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private secondTimer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private lastServed = 0;
  private lastFailed = 0;
  readonly result: RunResult;

  constructor(private readonly options: LocalModeOptions) {
    this.state = new LocalState(options.stateFile ?? join(options.config.baseDir, ".ballast", "state.json"));
    this.server = new AgentLinkServer({ registry: this.registry, clock: options.clock, log: options.log });
    const first = options.config.load?.workload ?? options.config.workloads[0]?.name ?? "";
    this.result = { workload: first, signalName: "", timeline: [], decisions: [], load: undefined };
  }

  /** The workload shown in the terminal and the timeline. */
  private get watched(): LocalWorkload | undefined {
    return this.workloads.find((w) => w.name === this.result.workload);
  }

  async start(): Promise<void> {
    const { config, clock, log } = this.options;
    const port = await this.server.listen("127.0.0.1:0");
    this.startedAt = clock.now();
    this.workloads = config.workloads.map(
      (w) =>
        new LocalWorkload({
          config: w,
          baseDir: config.baseDir,
          runDir: this.runDir,
          controllerAddress: `127.0.0.1:${port}`,
          reportIntervalMs: config.reportIntervalMs,
          registry: this.registry,
          clock,
          log,
          onDecision: (d) => this.recordDecision(d),
          state: this.state,
          ...(this.options.prometheusUrl ? { prometheusUrl: this.options.prometheusUrl } : {}),
        }),
    );
    if (this.options.api) await this.startApi(this.options.api);
    await Promise.all(this.workloads.map((w) => w.start()));
    for (const w of this.workloads) log(`${w.name}: front on http://127.0.0.1:${w.frontPort}/`);
    await Promise.all(this.workloads.map((w) => w.untilReady(READY_TIMEOUT_MS)));
    this.startedAt = clock.now();
    const loadCfg = config.load;
    if (this.options.load && loadCfg) {
      const target = this.workloads.find((w) => w.name === loadCfg.workload) as LocalWorkload;
      this.loadGen = new LoadGenerator(target.frontPort, loadCfg.phases, clock);
      this.loadGen.start();
    }
    this.syncTimer = setInterval(() => {
      for (const w of this.workloads) w.sync();
    }, config.syncPeriodMs);
    this.secondTimer = setInterval(() => this.everySecond(), 1000);
  }

  /** The replica-control API over the local workloads (namespace "local"), with token-file auth. */
  private async startApi(api: { listen: string; tokenFile: string; auditLog?: string }): Promise<void> {
    const { clock, log } = this.options;
    const byName = (name: string) => this.workloads.find((w) => w.name === name);
    const service = new ReplicaControlService({
      directory: {
        get: (namespace, name) => {
          const w = namespace === LOCAL_NAMESPACE ? byName(name) : undefined;
          if (!w) return undefined;
          const policy = w.policy;
          return {
            namespace,
            name,
            targetRef: { apiVersion: "ballast.dev/v1alpha1", kind: "Workload", name },
            minReplicas: policy.minReplicas ?? 1,
            maxReplicas: policy.maxReplicas,
            specReplicas: () => w.pool.getScale().specReplicas,
            decisions: () => [...w.decisions],
            overrides: () => w.overrides(),
            setOverrides: (list) => w.setOverrides(list),
            scheduleNames: () => w.scheduleNames(),
            setScheduleSwitch: (schedule, enabled) => w.setScheduleSwitch(schedule, enabled),
            event: async (type, reason, message) => log(`${name}: ${type} ${reason}: ${message}`),
          };
        },
        canWrite: () => true,
      },
      authn: new TokenFileAuthenticator(api.tokenFile),
      authz: allowAuthenticated,
      audit: new AuditLog(api.auditLog),
      limiter: new RateLimiter(5, 20),
      clock,
      log,
    });
    this.api = new HttpApi(service);
    this.apiPort = await this.api.listen(api.listen);
    log(
      `replica-control API on http://127.0.0.1:${this.apiPort}/ (policies in namespace "${LOCAL_NAMESPACE}")`,
    );
  }

  frontPort(workload: string): number | undefined {
    return this.workloads.find((w) => w.name === workload)?.frontPort;
  }

  private recordDecision(d: Decision): void {
    this.result.decisions.push({
      t: round((d.at - this.startedAt) / 1000, 1),
      from: d.currentReplicas,
      to: d.desiredReplicas,
      reason: d.summary,
    });
  }

  private everySecond(): void {
    const w = this.watched;
    if (!w) return;
    const now = this.options.clock.now();
    const served = w.front.stats.served + w.front.stats.failed;
    const rps = served - this.lastServed;
    this.lastServed = served;
    const failed = w.front.stats.failed - this.lastFailed;
    this.lastFailed = w.front.stats.failed;
    const scale = w.pool.getScale();
    const signal = w.signal(now);
    this.result.signalName = signal.name;
    const point: TimelinePoint = {
      t: Math.round((now - this.startedAt) / 1000),
      rps,
      failed,
      replicasReady: scale.readyReplicas,
      replicasDesired: scale.specReplicas,
      signal: signal.value === undefined ? null : round(signal.value, 3),
    };
    this.result.timeline.push(point);
    const shown = signal.value === undefined ? "–" : signal.value.toFixed(2);
    this.options.print(
      `${String(point.t).padStart(4)}s  rps ${String(rps).padStart(4)}  ready/desired ${point.replicasReady}/${point.replicasDesired}  ` +
        `${signal.name} ${shown}/pod  │ ${w.lastDecision?.summary ?? "waiting for signals"}`,
    );
  }

  async stop(): Promise<void> {
    clearInterval(this.syncTimer);
    clearInterval(this.secondTimer);
    if (this.loadGen) {
      await this.loadGen.stop();
      this.result.load = { ...this.loadGen.stats };
    }
    await this.api?.close();
    await Promise.all(this.workloads.map((w) => w.stop()));
    await this.server.close();
    rmSync(this.runDir, { recursive: true, force: true });
  }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
