import { Agent, request } from "node:http";
import type { Clock } from "../clock.js";
import { type LoadPhase, rateAt } from "./load-profile.js";

const TICK_MS = 10;

export interface LoadStats {
  sent: number;
  ok: number;
  failed: number;
  /** Requests not sent because `maxInflight` were already waiting. */
  shed: number;
}

/**
 * Open-loop load: requests are sent at the profile's rate whatever the responses do (as real users
 * arrive), capped at `maxInflight` outstanding requests so an overloaded run stays bounded.
 */
export class LoadGenerator {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 512 });
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private carry = 0;
  private inflight = 0;
  private lastTick = 0;
  readonly stats: LoadStats = { sent: 0, ok: 0, failed: 0, shed: 0 };
  /** Offered rate of the last tick. */
  currentRps = 0;

  constructor(
    private readonly port: number,
    private readonly phases: readonly LoadPhase[],
    private readonly clock: Clock,
    private readonly maxInflight = 2000,
  ) {}

  start(): void {
    this.startedAt = this.lastTick = this.clock.now();
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  private tick(): void {
    const now = this.clock.now();
    const dt = (now - this.lastTick) / 1000;
    this.lastTick = now;
    const { rps } = rateAt(this.phases, (now - this.startedAt) / 1000);
    this.currentRps = rps;
    this.carry += rps * dt;
    while (this.carry >= 1) {
      this.carry--;
      if (this.inflight >= this.maxInflight) this.stats.shed++;
      else this.send();
    }
  }

  private send(): void {
    this.inflight++;
    this.stats.sent++;
    const req = request({ host: "127.0.0.1", port: this.port, path: "/", agent: this.agent }, (res) => {
      res.resume();
      res.on("end", () => this.done(res.statusCode !== undefined && res.statusCode < 500));
      res.on("error", () => this.done(false));
    });
    req.on("error", () => this.done(false));
    req.end();
  }

  private done(ok: boolean): void {
    this.inflight--;
    if (ok) this.stats.ok++;
    else this.stats.failed++;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    // Let outstanding requests finish (bounded), then drop the sockets.
    for (let i = 0; i < 100 && this.inflight > 0; i++) await new Promise((r) => setTimeout(r, 50));
    this.agent.destroy();
  }
}
