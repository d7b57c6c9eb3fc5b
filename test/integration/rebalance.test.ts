// After a scale-out, clients pinned by keep-alive to the old replicas move: the local process pool sends
// RebalanceConnections to the replicas that were there before, their SDKs close connections gradually
// (Connection: close, jittered over the spread), and the clients reconnect through a per-connection
// balancer (as behind a Kubernetes Service) onto every replica.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LocalProcessPool } from "../../controller/dist/src/actuation/local-process-pool.js";
import { AgentLinkServer } from "../../controller/dist/src/ingest/agent-link-server.js";
import { PodRegistry } from "../../controller/dist/src/ingest/pod-registry.js";
import { http1Load, TcpService } from "../support/load-clients.js";
import { repoRoot, waitFor } from "../support/processes.js";

const dir = mkdtempSync(join(tmpdir(), "ballast-rebalance-"));
const clock = { now: () => Date.now() };
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

describe("connection rebalancing after a scale-out", () => {
  it("2 → 4 with long-lived keep-alive clients: the new replicas serve ≥ 30 % of requests within 10 s", async () => {
    const registry = new PodRegistry();
    const server = new AgentLinkServer({ registry, clock, log: () => {} });
    const port = await server.listen("127.0.0.1:0");
    const pool = new LocalProcessPool({
      workload: "rebalance",
      command: [process.execPath, join(repoRoot, "test/fixtures/drain-app.mjs")],
      env: { DELAY_MS: "5" },
      cwd: repoRoot,
      controllerAddress: `127.0.0.1:${port}`,
      runDir: dir,
      registry,
      clock,
      drainDeadlineMs: 5000,
      reportIntervalMs: 200,
      log: () => {},
    });
    cleanups.push(async () => {
      await pool.stopAll();
      await server.close();
    });
    await pool.setReplicas(2, "start");
    await waitFor(() => pool.readyReplicas(clock.now()).length === 2, 20_000, "2 ready replicas");
    const oldPorts = new Set(pool.active().map((r) => r.port));
    const service = new TcpService(() => pool.readyReplicas(clock.now()).map((r) => r.port));
    await service.listen();
    cleanups.push(() => service.close());

    const load = http1Load(service.port, 12);
    cleanups.push(() => load.stop());
    await new Promise((r) => setTimeout(r, 800));
    const t0 = performance.now();
    await pool.setReplicas(4, "scale-out");

    // Share of the new replicas in each second after the scale-out, until it reaches 30 %.
    const shareIn = (fromMs: number, toMs: number) => {
      let all = 0;
      let fresh = 0;
      for (const [p, times] of load.tally.byPort) {
        const n = times.filter((t) => t >= fromMs && t < toMs).length;
        all += n;
        if (!oldPorts.has(p)) fresh += n;
      }
      return all ? fresh / all : 0;
    };
    let reachedAt = Number.NaN;
    const shares: number[] = [];
    for (let s = 1; s <= 10; s++) {
      await new Promise((r) => setTimeout(r, t0 + s * 1000 - performance.now()));
      const end = lastSampleTime(load.tally.byPort);
      const share = shareIn(end - 1000, end + 1);
      shares.push(Math.round(share * 100));
      if (share >= 0.3) {
        reachedAt = s;
        break;
      }
    }
    const tally = await load.stop();
    expect(pool.readyReplicas(clock.now())).toHaveLength(4);
    expect(reachedAt, `new replicas' share per second: ${shares.join("%, ")}%`).toBeLessThanOrEqual(10);
    expect(tally.failed, tally.errors.slice(0, 5).join("; ")).toBe(0);
  }, 60_000);
});

/** Time of the newest answer (ms since the load started). */
function lastSampleTime(byPort: Map<number, number[]>): number {
  let last = 0;
  for (const times of byPort.values()) last = Math.max(last, times.at(-1) ?? 0);
  return last;
}
