import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DrainState } from "@ballast/proto";
import type { Clock } from "../clock.js";
import type { PodRecord, PodRegistry } from "../ingest/pod-registry.js";
import { freePort } from "./free-port.js";
import type { LauncherSpec } from "./replica-launcher.js";
import type { ScaleState, ScaleTarget } from "./scale-target.js";

export const LOCAL_NAMESPACE = "local";

export type ReplicaPhase = "starting" | "running" | "draining" | "stopped";

/** One replica of a local workload: a process group holding the app and its agent. */
export interface LocalReplica {
  name: string;
  port: number;
  /** Controller-clock time the replica was started. */
  startedAt: number;
  /** When the replica first reported ready; undefined until then. */
  readyAt: number | undefined;
  phase: ReplicaPhase;
  process: ChildProcess;
  exited: Promise<void>;
}

export interface LocalProcessPoolOptions {
  workload: string;
  /** The app's command line; PORT, BALLAST_AGENT_SOCKET and BALLAST_SERVICE are set for it. */
  command: string[];
  env: Record<string, string>;
  cwd: string;
  /** AgentLink address the replicas' agents report to. */
  controllerAddress: string;
  runDir: string;
  registry: PodRegistry;
  clock: Clock;
  drainDeadlineMs: number;
  reportIntervalMs: number;
  log: (line: string) => void;
}

/** How long a scale-out waits for its new replicas before it gives up rebalancing the old ones. */
const REBALANCE_READY_TIMEOUT_MS = 30_000;
/** Connections of the old replicas close spread over this long after a scale-out. */
const REBALANCE_SPREAD_MS = 3000;

const here = dirname(fileURLToPath(import.meta.url));
const launcherPath = join(here, "replica-launcher.js");
const agentCli = createRequire(import.meta.url).resolve("@ballast/agent/cli");

/**
 * Runs a workload's replicas as local process groups. Scale-out starts new groups; scale-in picks the
 * replicas to remove (unready first, then idle, then newest), drains them through their agents and
 * stops them only when drained or when the drain deadline has passed.
 */
export class LocalProcessPool implements ScaleTarget {
  private readonly replicas = new Map<string, LocalReplica>();
  private nextIndex = 0;
  private spec = 0;

  constructor(private readonly options: LocalProcessPoolOptions) {}

  list(): LocalReplica[] {
    return [...this.replicas.values()];
  }

  /** Replicas that exist and are not being removed. */
  active(): LocalReplica[] {
    return this.list().filter((r) => r.phase === "starting" || r.phase === "running");
  }

  record(replica: LocalReplica): PodRecord | undefined {
    return this.options.registry.get(LOCAL_NAMESPACE, replica.name);
  }

  /** Ready: its agent reports fresh, with every app ready and serving. */
  isReady(replica: LocalReplica, now: number): boolean {
    if (replica.phase !== "running" && replica.phase !== "starting") return false;
    const rec = this.record(replica);
    const report = rec && this.options.registry.freshReport(rec, now);
    const ready =
      !!report &&
      report.apps.length > 0 &&
      report.apps.every((a) => a.ready && a.drain === DrainState.DRAIN_STATE_SERVING);
    if (ready && replica.readyAt === undefined) {
      replica.readyAt = now;
      replica.phase = "running";
    }
    return ready;
  }

  readyReplicas(now: number): LocalReplica[] {
    return this.active().filter((r) => this.isReady(r, now));
  }

  getScale(): ScaleState {
    const now = this.options.clock.now();
    return {
      specReplicas: this.spec,
      statusReplicas: this.active().length,
      readyReplicas: this.readyReplicas(now).length,
    };
  }

  async setReplicas(replicas: number, reason: string): Promise<void> {
    this.spec = replicas;
    const active = this.active();
    if (replicas > active.length) {
      const started = await Promise.all(Array.from({ length: replicas - active.length }, () => this.start()));
      void this.rebalanceWhenReady(active, started);
    } else if (replicas < active.length) {
      const victims = this.chooseVictims(active, active.length - replicas);
      // Removing from rotation is synchronous: the front stops routing to them before the drain starts.
      for (const v of victims) v.phase = "draining";
      this.options.log(
        `${this.options.workload}: scale-in ${active.length} → ${replicas}, draining ${victims.map((v) => v.name).join(", ")}`,
      );
      // Do not await the drains: decisions go on while replicas finish their work.
      for (const v of victims) void this.drainAndStop(v, reason);
    }
  }

  /**
   * Once the new replicas are ready, asks the replicas that were there before to close their
   * long-lived connections gradually (over REBALANCE_SPREAD_MS, with jitter): clients pinned to them
   * by keep-alive, HTTP/2 or gRPC reconnect and spread over every replica, so the new ones take load.
   * All of them, not a share: a balancer that places each new connection blindly (round-robin,
   * random, as kube-proxy does) moves (new ÷ all) of the reconnecting clients to the new replicas,
   * which reaches an even spread only if every pinned client reconnects once.
   */
  private async rebalanceWhenReady(old: LocalReplica[], started: LocalReplica[]): Promise<void> {
    const o = this.options;
    const deadline = o.clock.now() + REBALANCE_READY_TIMEOUT_MS;
    const now = () => o.clock.now();
    while (now() < deadline && !started.every((r) => r.phase === "stopped" || this.isReady(r, now()))) {
      await sleep(25);
    }
    if (!started.some((r) => this.isReady(r, now()))) return;
    for (const r of old) {
      if (r.phase !== "running" && r.phase !== "starting") continue;
      o.registry.send(LOCAL_NAMESPACE, r.name, {
        body: { $case: "rebalanceConnections", value: { fraction: 1, spreadMs: REBALANCE_SPREAD_MS } },
      });
    }
  }

  private chooseVictims(active: LocalReplica[], count: number): LocalReplica[] {
    const now = this.options.clock.now();
    const inflight = (r: LocalReplica) => {
      const report = this.record(r)?.current;
      return report ? report.apps.reduce((s, a) => s + (a.load?.inflightNow ?? 0), 0) : 0;
    };
    const ranked = active
      .map((r) => ({ r, ready: this.isReady(r, now), inflight: inflight(r) }))
      .sort(
        (a, b) =>
          Number(a.ready) - Number(b.ready) || // unready first: they serve nothing yet
          Number(a.inflight > 0) - Number(b.inflight > 0) || // then idle ones
          b.r.startedAt - a.r.startedAt, // then the newest
      );
    return ranked.slice(0, count).map((x) => x.r);
  }

  private async start(): Promise<LocalReplica> {
    const o = this.options;
    const name = `${o.workload}-${this.nextIndex++}`;
    const dir = join(o.runDir, name);
    mkdirSync(dir, { recursive: true });
    const port = await freePort();
    const socketPath = join(dir, "agent.sock");
    const spec: LauncherSpec = {
      socketPath,
      logDir: dir,
      agent: {
        command: process.execPath,
        args: [
          agentCli,
          `--socket=${socketPath}`,
          `--controller=${o.controllerAddress}`,
          "--probe-host=127.0.0.1",
          "--probe-port=0",
          `--report-interval-ms=${o.reportIntervalMs}`,
          "--usage-source=process",
          `--drain-deadline-ms=${o.drainDeadlineMs}`,
          `--namespace=${LOCAL_NAMESPACE}`,
          `--pod-name=${name}`,
          `--workload=Workload/${o.workload}`,
          "--workload-api-version=ballast.dev/v1alpha1",
          `--app-address=127.0.0.1:${port}`,
        ],
      },
      app: {
        command: o.command[0] as string,
        args: o.command.slice(1),
        cwd: o.cwd,
        env: { ...o.env, PORT: String(port), BALLAST_AGENT_SOCKET: socketPath, BALLAST_SERVICE: o.workload },
      },
    };
    const child = spawn(process.execPath, [launcherPath, JSON.stringify(spec)], {
      detached: true, // its own process group, so one signal reaches the app and the agent
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const replica: LocalReplica = {
      name,
      port,
      startedAt: o.clock.now(),
      readyAt: undefined,
      phase: "starting",
      process: child,
      exited,
    };
    this.replicas.set(name, replica);
    void exited.then(() => {
      if (replica.phase !== "draining" && replica.phase !== "stopped") {
        o.log(`${o.workload}: replica ${name} exited unexpectedly (code ${child.exitCode})`);
      }
      replica.phase = "stopped";
      this.replicas.delete(name);
      o.registry.forget(LOCAL_NAMESPACE, name);
    });
    return replica;
  }

  private async drainAndStop(replica: LocalReplica, reason: string): Promise<void> {
    const o = this.options;
    const sent = o.registry.send(LOCAL_NAMESPACE, replica.name, {
      body: { $case: "drain", value: { deadlineMs: o.drainDeadlineMs, reason } },
    });
    if (sent) {
      const deadline = o.clock.now() + o.drainDeadlineMs;
      while (o.clock.now() < deadline && !this.drained(replica)) await sleep(25);
    }
    await this.stop(replica);
  }

  private drained(replica: LocalReplica): boolean {
    const report = this.record(replica)?.current;
    return !!report && report.apps.every((a) => a.drain === DrainState.DRAIN_STATE_DRAINED);
  }

  /** SIGTERM to the replica's process group, SIGKILL if it is still there after 5 s. */
  private async stop(replica: LocalReplica): Promise<void> {
    const pid = replica.process.pid;
    if (pid === undefined || replica.process.exitCode !== null) return;
    signalGroup(pid, "SIGTERM");
    const killed = await Promise.race([replica.exited.then(() => true), sleep(5000).then(() => false)]);
    if (!killed) {
      signalGroup(pid, "SIGKILL");
      await replica.exited;
    }
  }

  /** Stops every replica at once (end of the run): drains what it can within the deadline. */
  async stopAll(): Promise<void> {
    this.spec = 0;
    const all = this.list();
    // Stopping on purpose: their exit is expected, not a crash to report.
    for (const r of all) r.phase = "draining";
    await Promise.all(all.map((r) => this.stop(r)));
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
