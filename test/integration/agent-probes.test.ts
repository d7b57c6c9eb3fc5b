// The agent binary's probes and its paths for apps without the SDK: liveness never fails on drain,
// readiness is false while draining, /prestop runs the app's drain timeline and returns when it is
// done; a pushed JSON app and a scraped Prometheus app are reported like SDK apps.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { agentCli, freePort, helloService, type Proc, run, waitFor } from "../support/processes.js";

const dir = mkdtempSync(join(tmpdir(), "ballast-probes-"));
const procs: Proc[] = [];
afterAll(async () => {
  for (const p of procs.reverse()) await p.stop();
  rmSync(dir, { recursive: true, force: true });
});

const get = async (port: number, path: string) => {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, text: await r.text() };
};

describe("ballast-agent probes and preStop", () => {
  it("preStop drains the app: not ready at once, alive throughout, returns when drained", async () => {
    const probe = await freePort();
    const socket = join(dir, "a.sock");
    const agent = run(agentCli, [
      `--socket=${socket}`,
      "--probe-host=127.0.0.1",
      `--probe-port=${probe}`,
      "--usage-source=none",
      "--drain-deadline-ms=5000",
    ]);
    procs.push(agent);
    await waitFor(() => agent.output().includes("ballast-agent:"), 10_000, "agent");
    expect((await get(probe, "/readyz")).text).toContain("no app connected");
    const appPort = await freePort();
    const app = run(helloService, [], {
      BALLAST_AGENT_SOCKET: socket,
      PORT: String(appPort),
      WORK_MS: "0",
      IO_MS: "300",
    });
    procs.push(app);
    await waitFor(async () => (await get(probe, "/readyz")).status === 200, 10_000, "ready");
    expect((await get(probe, "/startupz")).status).toBe(200);

    const slow = fetch(`http://127.0.0.1:${appPort}/`).then((r) => r.status);
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    const prestop = get(probe, "/prestop");
    await waitFor(async () => (await get(probe, "/readyz")).text.includes("draining"), 1000, "not ready");
    expect((await get(probe, "/livez")).status).toBe(200);
    const status = JSON.parse((await get(probe, "/status")).text);
    expect(status.apps[0]).toMatchObject({ service: "hello", ready: false });
    expect(await slow).toBe(200);
    expect(await prestop).toEqual({ status: 200, text: "drained\n" });
    // Propagation wait (300 ms of quiet) plus the request in flight, well within the budget.
    expect(performance.now() - t0).toBeLessThan(2000);
    expect((await get(probe, "/livez")).status).toBe(200);
    expect((await get(probe, "/readyz")).status).toBe(503);
  });

  it("reports a JSON-pushing app and a scraped Prometheus app", async () => {
    const metrics = createServer((_req, res) =>
      res.end('http_requests_total{code="200"} 5\nhttp_requests_in_flight 1\n'),
    );
    await new Promise<void>((r) => metrics.listen(0, "127.0.0.1", () => r()));
    const probe = await freePort();
    const push = await freePort();
    const agent = run(agentCli, [
      `--socket=${join(dir, "b.sock")}`,
      "--probe-host=127.0.0.1",
      `--probe-port=${probe}`,
      "--usage-source=none",
      `--push-port=${push}`,
      `--scrape=http://127.0.0.1:${(metrics.address() as { port: number }).port}/metrics`,
      "--scrape-service=legacy",
      "--scrape-interval-ms=100",
    ]);
    procs.push(agent);
    try {
      await waitFor(() => agent.output().includes("ballast-agent:"), 10_000, "agent");
      const r = await fetch(`http://127.0.0.1:${push}/v1/push`, {
        method: "POST",
        body: JSON.stringify({ service: "php-app", pid: 77, ready: true, inflight: 2, completed: 9 }),
      });
      expect(await r.json()).toEqual({ commands: [] });
      await waitFor(async () => (await get(probe, "/readyz")).status === 200, 5000, "both apps ready");
      const status = JSON.parse((await get(probe, "/status")).text);
      expect(status.apps.map((a: { service: string }) => a.service).sort()).toEqual(["legacy", "php-app"]);
    } finally {
      metrics.close();
    }
  });
});
