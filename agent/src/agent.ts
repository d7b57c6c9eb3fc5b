import { type Command, PROTOCOL_VERSION, validateCommand } from "@ballast/proto";
import { AgentLinkClient } from "./agent-link-client.js";
import { AppRegistry } from "./app-registry.js";
import type { AgentConfig } from "./config.js";
import { PodLinkServer } from "./pod-link-server.js";
import { ProbeServer } from "./probe-server.js";
import { PrometheusScraper } from "./prometheus-scrape.js";
import { PushServer } from "./push-server.js";
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
  /** One link per controller address; each gets every report. */
  private links: AgentLinkClient[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastReportAt = 0;
  private pushTimer: NodeJS.Timeout | undefined;
  private readonly pushServer: PushServer | undefined;
  private readonly scraper: PrometheusScraper | undefined;
  probePort = 0;
  /** Port of the HTTP/JSON push endpoint, once started (0 when off). */
  pushPort = 0;

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
    if (config.push) {
      this.pushServer = new PushServer({
        ...config.push,
        registry: this.registry,
        staleAfterMs: Math.max(10_000, 3 * config.reportIntervalMs),
        log,
      });
    }
    if (config.scrape) {
      const s = config.scrape;
      this.scraper = new PrometheusScraper({
        url: s.url,
        serviceName: s.serviceName,
        intervalMs: s.intervalMs,
        mapping: { inflight: s.inflight, requests: s.requests, gauges: s.gauges },
        registry: this.registry,
        drainWaitMs: s.drainWaitMs,
        log,
      });
    }
  }

  async start(): Promise<void> {
    await this.podLink.start();
    this.probePort = await this.probes.start();
    if (this.pushServer) this.pushPort = await this.pushServer.start();
    this.scraper?.start();
    const c = this.config;
    for (const target of c.controllers) {
      const link = new AgentLinkClient({
        target,
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
      this.links.push(link);
    }
    // Readiness and drain changes go out at once instead of waiting for the next period.
    if (this.links.length > 0) this.registry.onChange(() => this.pushSoon());
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
    if (this.links.length === 0) return;
    const now = Date.now();
    this.lastReportAt = now;
    const apps = this.registry.takeReports();
    const report = {
      at: new Date(now),
      apps,
      cgroup: this.usage.sample(
        now,
        apps.map((a) => a.pid).filter((pid) => pid > 0),
      ),
    };
    for (const link of this.links) link.report(report);
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
    for (const link of this.links) link.close();
    this.podLink.forceStop();
    this.scraper?.stop();
    await this.pushServer?.stop();
    await this.probes.stop();
  }
}
