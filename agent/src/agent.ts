import { type Command, PROTOCOL_VERSION, validateCommand } from "@ballast/proto";
import { AgentLinkClient } from "./agent-link-client.js";
import { AppRegistry } from "./app-registry.js";
import type { AgentConfig } from "./config.js";
import { PodLinkServer } from "./pod-link-server.js";
import { ProbeServer } from "./probe-server.js";
import { UsageSampler } from "./usage-sampler.js";
import { AGENT_VERSION } from "./version.js";

/** Shortest gap between two reports pushed because an app's state changed. */
const MIN_PUSH_GAP_MS = 50;

/** One agent: PodLink server, probes, usage sampling and the link to the controller. */
export class Agent {
  readonly registry = new AppRegistry();
  private readonly podLink: PodLinkServer;
  private readonly probes: ProbeServer;
  private readonly usage: UsageSampler;
  private link: AgentLinkClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastReportAt = 0;
  private pushTimer: NodeJS.Timeout | undefined;
  probePort = 0;

  constructor(
    readonly config: AgentConfig,
    private readonly log: (line: string) => void = (l) => console.error(l),
  ) {
    this.podLink = new PodLinkServer({
      socketPath: config.socketPath,
      registry: this.registry,
      reportIntervalMs: config.reportIntervalMs,
      log,
    });
    this.probes = new ProbeServer({
      host: config.probeHost,
      port: config.probePort,
      registry: this.registry,
      preStop: () => this.drain(config.drainDeadlineMs, "preStop"),
    });
    this.usage = new UsageSampler(config.usageSource);
  }

  async start(): Promise<void> {
    await this.podLink.start();
    this.probePort = await this.probes.start();
    const c = this.config;
    if (c.controller) {
      this.link = new AgentLinkClient({
        target: c.controller,
        bufferCapacity: c.bufferCapacity,
        onCommand: (cmd) => this.onControllerCommand(cmd),
        log: this.log,
        hello: {
          protocolVersion: PROTOCOL_VERSION,
          agentVersion: AGENT_VERSION,
          reportIntervalMs: c.reportIntervalMs,
          pod: {
            namespace: c.namespace,
            podName: c.podName,
            uid: c.podUid,
            nodeName: c.nodeName,
            workload: c.workload,
            containers: [],
            address: c.appAddress,
          },
        },
      });
      // Readiness and drain changes go out at once instead of waiting for the next period.
      this.registry.onChange(() => this.pushSoon());
    }
    this.timer = setInterval(() => this.report(), c.reportIntervalMs);
  }

  private pushSoon(): void {
    if (this.pushTimer) return;
    const wait = Math.max(0, this.lastReportAt + MIN_PUSH_GAP_MS - Date.now());
    this.pushTimer = setTimeout(() => {
      this.pushTimer = undefined;
      this.report();
    }, wait);
  }

  private report(): void {
    if (!this.link) return;
    const now = Date.now();
    this.lastReportAt = now;
    const apps = this.registry.takeReports();
    this.link.report({
      at: new Date(now),
      apps,
      cgroup: this.usage.sample(
        now,
        apps.map((a) => a.pid),
      ),
    });
  }

  private onControllerCommand(command: Command): void {
    try {
      validateCommand(command);
    } catch (e) {
      this.log(`agentlink: ignored an invalid command: ${(e as Error).message}`);
      return;
    }
    const body = command.body;
    if (body?.$case === "drain") {
      void this.drain(
        body.value.deadlineMs || this.config.drainDeadlineMs,
        body.value.reason || "controller",
      );
      return;
    }
    this.registry.broadcast(command);
  }

  /** Asks every app to drain; resolves true when all drained, false when the deadline passed first. */
  async drain(deadlineMs: number, reason: string): Promise<boolean> {
    this.log(`agent: draining apps (${reason}), deadline ${deadlineMs} ms`);
    this.registry.broadcast({ body: { $case: "drain", value: { deadlineMs, reason } } });
    if (this.registry.drained) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(false);
      }, deadlineMs);
      const off = this.registry.onChange(() => {
        if (this.registry.drained) {
          clearTimeout(timer);
          off();
          resolve(true);
        }
      });
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.pushTimer);
    this.link?.close();
    this.podLink.forceStop();
    await this.probes.stop();
  }
}
