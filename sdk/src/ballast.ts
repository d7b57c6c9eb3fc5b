import type { Server } from "node:http";
import { type AppState, type Command, DrainState, PROTOCOL_VERSION, validateCommand } from "@ballast/proto";
import { AgentConnection } from "./agent-connection.js";
import { attachHttpInstrumentation, type HttpInstrumentation } from "./http-instrumentation.js";
import { type GaugeFn, LoadMeter } from "./load-meter.js";
import { SDK_VERSION } from "./version.js";

export interface InstrumentOptions {
  /** Service name sent to the agent; default `BALLAST_SERVICE` or "app". */
  serviceName?: string;
  /** Unix socket of the agent; default `BALLAST_AGENT_SOCKET`. Without one the SDK only counts. */
  agentSocket?: string;
  /** Milliseconds between load reports until the agent says otherwise; default 1000. */
  reportIntervalMs?: number;
  /** Drain on SIGTERM and exit when done; default true. */
  handleSignals?: boolean;
  /** Longest a drain waits for in-flight requests, in ms; default 25000. */
  drainDeadlineMs?: number;
  /** Called with link errors; default: ignored (the link reconnects by itself). */
  onError?: (error: Error) => void;
}

/** The handle `instrument` returns: readiness, gauges, drain. */
export class Ballast {
  private readonly meter = new LoadMeter();
  private readonly http: HttpInstrumentation;
  private readonly connection: AgentConnection | undefined;
  private isReady = false;
  private drainState = DrainState.DRAIN_STATE_SERVING;
  private drainPromise: Promise<boolean> | undefined;
  private reportTimer: NodeJS.Timeout | undefined;
  private reportIntervalMs: number;
  private readonly drainDeadlineMs: number;
  private readonly onSigterm = () => void this.shutdownOnSignal();
  private readonly onError: ((error: Error) => void) | undefined;

  constructor(server: Server, options: InstrumentOptions = {}) {
    this.http = attachHttpInstrumentation(server, this.meter);
    this.reportIntervalMs = options.reportIntervalMs ?? 1000;
    this.drainDeadlineMs = options.drainDeadlineMs ?? 25_000;
    this.onError = options.onError;
    const socket = options.agentSocket ?? process.env.BALLAST_AGENT_SOCKET;
    if (socket) {
      this.meter.startWindows();
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

  /** The app is ready to serve; reported to the agent at once. */
  ready(): void {
    this.isReady = true;
    this.pushState();
  }

  /** Registers a custom gauge (e.g. queue backlog) sampled once per report window. */
  gauge(name: string, fn: GaugeFn): void {
    this.meter.gauge(name, fn);
  }

  /** Requests in flight right now. */
  get inflight(): number {
    return this.meter.inflightNow;
  }

  state(): AppState {
    return {
      ready: this.isReady && this.drainState === DrainState.DRAIN_STATE_SERVING,
      drain: this.drainState,
      inflight: this.meter.inflightNow,
    };
  }

  /**
   * Stops accepting, closes keep-alive connections after their current response and resolves when
   * no request is in flight (`true`) or the deadline passed (`false`). Repeated calls share one drain.
   */
  drain(deadlineMs = this.drainDeadlineMs): Promise<boolean> {
    if (!this.drainPromise) {
      this.drainState = DrainState.DRAIN_STATE_DRAINING;
      this.pushState();
      this.drainPromise = this.http.drain(deadlineMs).then((finished) => {
        this.drainState = DrainState.DRAIN_STATE_DRAINED;
        this.report();
        this.pushState();
        return finished;
      });
    }
    return this.drainPromise;
  }

  /** Sends a final report and closes the link to the agent. */
  async close(): Promise<void> {
    clearTimeout(this.reportTimer);
    process.off("SIGTERM", this.onSigterm);
    this.meter.close();
    await this.connection?.close();
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
      this.onError?.(e as Error);
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
      case "rebalanceConnections":
        // Lazy agents and connection rebalancing arrive with the production SDK; ignoring is safe.
        return;
    }
  }

  private pushState(): void {
    this.connection?.sendState(this.state());
  }

  private report(): void {
    if (this.connection) this.connection.sendReport(this.meter.take());
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

/** Instruments a `node:http` (or `node:https`) server. */
export function instrument(server: Server, options?: InstrumentOptions): Ballast {
  return new Ballast(server, options);
}
