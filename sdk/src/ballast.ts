import type { Server as HttpServer } from "node:http";
import {
  type AppState,
  type Command,
  DrainState,
  type LoadReport,
  PROTOCOL_VERSION,
  validateCommand,
} from "@ballast/proto";
import type { Server as GrpcServer, ServerInterceptor } from "@grpc/grpc-js";
import { AgentConnection } from "./agent-connection.js";
import {
  type DrainResult,
  type DrainStep,
  type DrainTiming,
  drainTimingFor,
  runDrain,
} from "./drain-timeline.js";
import { GrpcServerAdapter, grpcInterceptor } from "./grpc-instrumentation.js";
import { HttpServerAdapter } from "./http-instrumentation.js";
import { type AnyHttp2Server, Http2ServerAdapter } from "./http2-instrumentation.js";
import { type LazyAgent, type LazyAgentOptions, LazyAgents } from "./lazy-agents.js";
import { type Counter, type GaugeFn, LoadMeter } from "./load-meter.js";
import type { ServerAdapter } from "./server-adapter.js";
import { SDK_VERSION } from "./version.js";

export interface InstrumentOptions {
  /** Service name sent to the agent; default `BALLAST_SERVICE` or "app". */
  serviceName?: string;
  /** Unix socket of the agent; default `BALLAST_AGENT_SOCKET`. Without one the SDK only counts. */
  agentSocket?: string;
  /** Milliseconds between load reports until the agent says otherwise; default 1000. */
  reportIntervalMs?: number;
  /** Drain on SIGTERM, then exit; default true. */
  handleSignals?: boolean;
  /** Whole budget of a drain (propagation, in-flight, flush) in ms; default 25000. */
  drainDeadlineMs?: number;
  /** Drain step timings; defaults from `drainTimingFor(process.env)`. */
  drain?: Partial<DrainTiming>;
  /**
   * After ready, the app counts as warming up for this long (caches, JIT), in ms; default 0. It also
   * counts as warming up until ready, and while `warmingUp(true)` holds.
   */
  warmupMs?: number;
  /** Recycle HTTP/1.1 and HTTP/2 connections after about this long (±10 %); default 0 = never. */
  maxConnectionAgeMs?: number;
  /** Spread of a rebalance when the command gives none, in ms; default 5000. */
  rebalanceSpreadMs?: number;
  /**
   * While idle (nothing in flight, nothing completed, gauges and counters unchanged), send one report
   * and then at most one every this many ms; default 10 report intervals. 0 sends every window.
   */
  idleReportEveryMs?: number;
  /** Called with link errors and refused commands; default: ignored. */
  onError?: (error: Error) => void;
}

/** A named readiness gate: the app is not ready until every gate is resolved. */
export interface ReadinessGate {
  readonly name: string;
  readonly resolved: boolean;
  resolve(): void;
  /** Makes the app not ready again until `resolve` (a lost database connection). */
  reset(): void;
}

/** What the SDK is doing; tests and logs read it. */
export interface DrainEvent {
  step: DrainStep | "not-ready" | "drained";
  atMs: number;
}

const GATE_NAME = /^[a-z][a-z0-9_.-]{0,62}$/;

/**
 * One per process: the load meter, the link to the agent, readiness (ready() plus named gates),
 * warming up, the drain timeline, rebalancing and lazy agents, over any number of instrumented
 * servers (node:http/https, node:http2, gRPC; Express, Fastify and Koa through them).
 */
export class Ballast {
  readonly meter = new LoadMeter();
  private readonly adapters: ServerAdapter[] = [];
  private readonly connection: AgentConnection | undefined;
  private appReady = false;
  private readyAt = -1;
  private warmingOverride: boolean | undefined;
  private readonly gates = new Map<string, boolean>();
  private drainState = DrainState.DRAIN_STATE_SERVING;
  private drainPromise: Promise<boolean> | undefined;
  private reportTimer: NodeJS.Timeout | undefined;
  private warmTimer: NodeJS.Timeout | undefined;
  private reportIntervalMs: number;
  private readonly drainDeadlineMs: number;
  private readonly timing: DrainTiming;
  private readonly options: InstrumentOptions;
  private readonly drainStartHooks: Array<() => unknown> = [];
  private readonly flushHooks: Array<(budgetMs: number) => unknown> = [];
  private readonly lazy: LazyAgents;
  private windowsStarted = false;
  private lastSentIdle = false;
  private lastSentAt = 0;
  private lastSentValues = "";
  private lastPushedIdle: boolean | undefined;
  private closed = false;
  /** Steps of the latest drain with their times. */
  readonly drainEvents: DrainEvent[] = [];
  /** The latest drain's result. */
  lastDrain: DrainResult | undefined;
  private readonly onSigterm = () => void this.shutdownOnSignal();

  constructor(options: InstrumentOptions = {}) {
    this.options = options;
    this.reportIntervalMs = options.reportIntervalMs ?? 1000;
    this.drainDeadlineMs = options.drainDeadlineMs ?? 25_000;
    this.timing = { ...drainTimingFor(process.env), ...options.drain };
    this.meter.warmingUp = () => this.isWarmingUp();
    this.lazy = new LazyAgents(
      () => this.pushState(),
      (name) => {
        const g = this.gate(name);
        return () => g.resolve();
      },
    );
    const socket = options.agentSocket ?? process.env.BALLAST_AGENT_SOCKET;
    if (socket) {
      this.startWindows();
      this.connection = new AgentConnection(
        socket,
        {
          serviceName: options.serviceName ?? process.env.BALLAST_SERVICE ?? "app",
          pid: process.pid,
          sdkVersion: SDK_VERSION,
          protocolVersion: PROTOCOL_VERSION,
          runtime: `node ${process.version}`,
        },
        {
          onCommand: (c) => this.onCommand(c),
          currentState: () => this.state(),
          onError: options.onError,
        },
      );
      this.scheduleReports();
    }
    if (options.handleSignals ?? true) process.once("SIGTERM", this.onSigterm);
  }

  // ---- servers ------------------------------------------------------------------------------------

  /** Instruments a node:http or node:https server. */
  attachHttp(server: HttpServer): this {
    this.adapters.push(new HttpServerAdapter(server, this.meter, this.options));
    return this;
  }

  /** Instruments a node:http2 server (plain or secure, with or without `allowHTTP1`). */
  attachHttp2(server: AnyHttp2Server): this {
    this.adapters.push(new Http2ServerAdapter(server, this.meter, this.options));
    return this;
  }

  /** Instruments a @grpc/grpc-js server (see GrpcServerAdapter). */
  attachGrpc(server: GrpcServer): this {
    this.adapters.push(new GrpcServerAdapter(server, this.meter));
    return this;
  }

  /** An interceptor for `new grpc.Server({ interceptors: [...] })`; `attachGrpc` adds one otherwise. */
  grpcInterceptor(): ServerInterceptor {
    return grpcInterceptor(this.meter);
  }

  /** The instrumented servers' adapters. */
  get servers(): readonly ServerAdapter[] {
    return this.adapters;
  }

  // ---- signals ------------------------------------------------------------------------------------

  /** Registers (or replaces) a custom gauge (e.g. queue backlog) sampled at the end of each window. */
  gauge(name: string, fn: GaugeFn): void {
    this.meter.gauge(name, fn);
  }

  /** A counter reported as its growth per window (jobs done, messages consumed). */
  counter(name: string): Counter {
    return this.meter.counter(name);
  }

  /** Requests in flight right now. */
  get inflight(): number {
    return this.meter.inflightNow;
  }

  /** Starts measuring windows even without an agent (for Prometheus export). */
  startWindows(): void {
    if (this.windowsStarted) return;
    this.windowsStarted = true;
    this.meter.startWindows();
  }

  /** The latest finished window (undefined before the first). */
  get lastReport(): LoadReport | undefined {
    return this.meter.last;
  }

  // ---- readiness and warm-up ----------------------------------------------------------------------

  /** The app is ready to serve (once every gate is resolved); pushed to the agent at once. */
  ready(): void {
    if (this.appReady) return;
    this.appReady = true;
    this.readinessChanged();
  }

  /** Returns the readiness gate `name`, creating it unresolved. */
  gate(name: string): ReadinessGate {
    if (!GATE_NAME.test(name))
      throw new Error(`ballast: gate name ${JSON.stringify(name)} must match ${GATE_NAME.source}`);
    if (!this.gates.has(name)) {
      if (this.gates.size >= 32) throw new Error("ballast: at most 32 readiness gates");
      this.gates.set(name, false);
      this.readinessChanged();
    }
    const gates = this.gates;
    const changed = () => this.readinessChanged();
    return {
      name,
      get resolved() {
        return gates.get(name) === true;
      },
      resolve() {
        if (gates.get(name) === true) return;
        gates.set(name, true);
        changed();
      },
      reset() {
        if (gates.get(name) === false) return;
        gates.set(name, false);
        changed();
      },
    };
  }

  /** Forces the warming-up state on or off; `undefined` returns to the automatic rule. */
  warmingUp(on: boolean | undefined): void {
    this.warmingOverride = on;
    if (on) this.meter.markWarming();
    this.pushState();
  }

  isWarmingUp(): boolean {
    if (this.warmingOverride !== undefined) return this.warmingOverride;
    if (this.readyAt < 0) return true;
    return performance.now() - this.readyAt < (this.options.warmupMs ?? 0);
  }

  get isReady(): boolean {
    if (!this.appReady || this.drainState !== DrainState.DRAIN_STATE_SERVING) return false;
    for (const ok of this.gates.values()) if (!ok) return false;
    return true;
  }

  state(): AppState {
    return {
      ready: this.isReady,
      drain: this.drainState,
      inflight: this.meter.inflightNow,
      warmingUp: this.isWarmingUp(),
      pendingGates: [...this.gates].filter(([, ok]) => !ok).map(([name]) => name),
      lazyAgents: this.lazy.statuses(),
    };
  }

  private readinessChanged(): void {
    const ready = this.isReady;
    if (ready && this.readyAt < 0) {
      this.readyAt = performance.now();
      const warmupMs = this.options.warmupMs ?? 0;
      if (warmupMs > 0) {
        this.meter.markWarming();
        this.warmTimer = setTimeout(() => this.pushState(), warmupMs + 1);
        this.warmTimer.unref();
      }
    }
    this.lazy.setReady(ready);
    this.pushState();
  }

  // ---- lazy agents --------------------------------------------------------------------------------

  /**
   * Registers a heavy module (an APM or tracing agent, a profiler): it loads after the app is ready
   * and the event loop is calm, or when the controller asks, or at once with `mustPreload`.
   */
  lazyAgent<T>(name: string, loader: () => T | Promise<T>, options?: LazyAgentOptions<T>): LazyAgent<T> {
    return this.lazy.register(name, loader, options);
  }

  get lazyAgents(): LazyAgent<unknown>[] {
    return this.lazy.list();
  }

  // ---- drain --------------------------------------------------------------------------------------

  /** Runs `fn` when a drain starts (pause queue consumers and schedulers there). */
  onDrainStart(fn: () => unknown): void {
    this.drainStartHooks.push(fn);
  }

  /** Runs `fn` in the drain's flush step with the milliseconds left (close pools, flush exporters). */
  onFlush(fn: (budgetMs: number) => unknown): void {
    this.flushHooks.push(fn);
  }

  get draining(): boolean {
    return this.drainState !== DrainState.DRAIN_STATE_SERVING;
  }

  /**
   * Drains (see `runDrain`): not ready at once, keeps serving through the propagation wait while asking
   * clients to move (`Connection: close`, GOAWAY), stops accepting, waits for in-flight requests up to
   * the deadline, flushes telemetry, reports DRAINED. Resolves `true` when no request was cut off.
   * Repeated calls share one drain.
   */
  drain(deadlineMs = this.drainDeadlineMs): Promise<boolean> {
    if (!this.drainPromise) {
      this.drainState = DrainState.DRAIN_STATE_DRAINING;
      this.drainEvents.length = 0;
      const t0 = performance.now();
      this.drainEvents.push({ step: "not-ready", atMs: 0 });
      this.lazy.setReady(false);
      this.pushState();
      for (const fn of this.drainStartHooks) {
        try {
          fn();
        } catch (e) {
          this.options.onError?.(e as Error);
        }
      }
      this.drainPromise = runDrain(deadlineMs, this.timing, {
        adapters: () => this.adapters,
        inflight: () => this.meter.inflightNow,
        lastArrival: () => this.meter.lastArrival,
        flush: (budget) => this.flush(budget),
        step: (step, atMs) => this.drainEvents.push({ step, atMs }),
      }).then((result) => {
        this.lastDrain = result;
        this.drainState = DrainState.DRAIN_STATE_DRAINED;
        this.drainEvents.push({ step: "drained", atMs: performance.now() - t0 });
        this.pushState();
        return result.finished;
      });
    }
    return this.drainPromise;
  }

  private async flush(budgetMs: number): Promise<void> {
    await Promise.all([
      this.lazy.flush(budgetMs),
      ...this.flushHooks.map((fn) =>
        Promise.resolve()
          .then(() => fn(budgetMs))
          .catch(() => {}),
      ),
    ]);
    // The last window goes out with everything counted up to here.
    this.report(true);
  }

  /** Closes `fraction` of the open connections gradually; returns how many were scheduled. */
  rebalance(fraction = 1, spreadMs = this.options.rebalanceSpreadMs ?? 5000): number {
    if (this.draining) return 0;
    return this.adapters.reduce((n, a) => n + a.rebalance(fraction, spreadMs), 0);
  }

  /** Sends a final report and closes the link to the agent; instrumented servers stay as they are. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reportTimer);
    clearTimeout(this.warmTimer);
    process.off("SIGTERM", this.onSigterm);
    this.lazy.close();
    this.meter.close();
    for (const a of this.adapters) a.detach();
    await this.connection?.close();
    if (current === this) current = undefined;
  }

  private async shutdownOnSignal(): Promise<void> {
    await this.drain();
    await this.close();
    process.exit(0);
  }

  private onCommand(command: Command): void {
    try {
      validateCommand(command);
    } catch (e) {
      // A command this build cannot make sense of is ignored, never half-applied.
      this.options.onError?.(e as Error);
      return;
    }
    const body = command.body;
    if (!body) return;
    switch (body.$case) {
      case "drain":
        void this.drain(body.value.deadlineMs || this.drainDeadlineMs);
        return;
      case "setReportInterval":
        this.reportIntervalMs = body.value.intervalMs;
        this.scheduleReports();
        return;
      case "loadLazyAgent":
        if (!this.lazy.loadNow(body.value.name)) {
          this.options.onError?.(new Error(`ballast: no lazy agent named ${body.value.name}`));
        }
        return;
      case "rebalanceConnections":
        this.rebalance(body.value.fraction, body.value.spreadMs || undefined);
        return;
    }
  }

  private pushState(): void {
    this.connection?.sendState(this.state());
  }

  /**
   * Sends the window that ends now. An idle window (nothing in flight or completed, gauges and
   * counters unchanged) after an idle one is held back until `idleReportEveryMs` has passed.
   */
  private report(force = false): void {
    if (!this.connection) return;
    const r = this.meter.take();
    const idle = r.inflightNow === 0 && r.inflightMax === 0 && r.requestsCompleted === 0;
    const values = JSON.stringify(r.gauges) + JSON.stringify(r.counters);
    const every = this.options.idleReportEveryMs ?? 10 * this.reportIntervalMs;
    const now = performance.now();
    if (
      !force &&
      idle &&
      this.lastSentIdle &&
      values === this.lastSentValues &&
      every > 0 &&
      now - this.lastSentAt < every
    ) {
      return;
    }
    this.connection.sendReport(r);
    this.lastSentIdle = idle;
    this.lastSentAt = now;
    this.lastSentValues = values;
    // Tell the agent at once when the process turns idle or busy, so idle replicas go first on scale-in.
    if (idle !== this.lastPushedIdle) {
      this.lastPushedIdle = idle;
      this.pushState();
    }
  }

  private scheduleReports(): void {
    clearTimeout(this.reportTimer);
    const tick = () => {
      this.report();
      this.reportTimer = setTimeout(tick, this.reportIntervalMs);
      this.reportTimer.unref();
    };
    this.reportTimer = setTimeout(tick, this.reportIntervalMs);
    this.reportTimer.unref();
  }
}

let current: Ballast | undefined;

/** The process's Ballast, created with `options` on first use (later options are ignored). */
export function ballast(options?: InstrumentOptions): Ballast {
  if (!current) current = new Ballast(options);
  return current;
}

/** A server or app `instrument` knows. */
export type Instrumentable = HttpServer | AnyHttp2Server | GrpcServer;

/**
 * Instruments a server with the process's Ballast (created on first use): a node:http or https
 * server, a node:http2 server, or a @grpc/grpc-js server. For Express, Fastify and Koa see
 * `instrumentExpress`, `instrumentFastify` and `instrumentKoa`.
 */
export function instrument(server: Instrumentable, options?: InstrumentOptions): Ballast {
  const b = ballast(options);
  attach(b, server);
  return b;
}

/** Attaches `server` to `b` by its kind. */
export function attach(b: Ballast, server: Instrumentable): void {
  if (isGrpcServer(server)) b.attachGrpc(server);
  else if (isHttp2Server(server)) b.attachHttp2(server);
  else b.attachHttp(server as HttpServer);
}

function isGrpcServer(s: unknown): s is GrpcServer {
  const o = s as Record<string, unknown>;
  return typeof o.bindAsync === "function" && typeof o.addService === "function";
}

function isHttp2Server(s: unknown): s is AnyHttp2Server {
  const name = (s as { constructor?: { name?: string } }).constructor?.name;
  return name === "Http2Server" || name === "Http2SecureServer";
}
