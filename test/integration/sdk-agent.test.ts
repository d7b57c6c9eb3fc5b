// The SDK against a real agent PodLink server on a unix socket: state is pushed at once, idle windows
// are held back, and the controller's commands (rebalance, load a lazy agent) act in the app.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, Agent as HttpAgent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LazyAgentState } from "@ballast/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppRegistry } from "../../agent/src/app-registry.js";
import { PodLinkServer } from "../../agent/src/pod-link-server.js";
import { Ballast } from "../../sdk/src/ballast.js";
import { waitFor } from "../support/processes.js";

const dir = mkdtempSync(join(tmpdir(), "ballast-sdk-agent-"));
const socket = join(dir, "agent.sock");
const registry = new AppRegistry();
const podLink = new PodLinkServer({ socketPath: socket, registry, reportIntervalMs: 100, log: () => {} });
let received = 0;
const realAddLoad = registry.addLoad.bind(registry);
registry.addLoad = (app, report) => {
  received++;
  realAddLoad(app, report);
};

beforeAll(() => podLink.start());
afterAll(() => {
  podLink.forceStop();
  rmSync(dir, { recursive: true, force: true });
});

describe("SDK ⇄ agent", () => {
  it("pushes readiness at once, holds back idle windows, and obeys commands", async () => {
    const server = createServer((_req, res) => setTimeout(() => res.end("ok"), 2));
    const b = new Ballast({
      agentSocket: socket,
      handleSignals: false,
      idleReportEveryMs: 1000,
      serviceName: "svc",
    });
    b.attachHttp(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      await waitFor(() => registry.list().length === 1, 5000, "the app to connect");
      const db = b.gate("db");
      b.ready();
      await waitFor(() => registry.list()[0]?.state.pendingGates.includes("db"), 2000, "the gate");
      const t0 = performance.now();
      db.resolve();
      await waitFor(() => registry.ready, 2000, "ready");
      // Pushed, not carried by the next 100 ms report.
      expect(performance.now() - t0).toBeLessThan(60);

      // Idle: the first idle window goes out, then at most one per second.
      await new Promise((r) => setTimeout(r, 300));
      const before = received;
      await new Promise((r) => setTimeout(r, 1200));
      expect(received - before).toBeLessThanOrEqual(2);
      // Busy: every window goes out.
      const agent = new HttpAgent({ keepAlive: true, maxSockets: 4 });
      const busyFrom = received;
      const until = performance.now() + 800;
      while (performance.now() < until) {
        await Promise.all(
          Array.from(
            { length: 4 },
            () =>
              new Promise<void>((r) =>
                request({ host: "127.0.0.1", port, agent }, (res) => {
                  res.resume();
                  res.on("end", r);
                }).end(),
              ),
          ),
        );
      }
      expect(received - busyFrom).toBeGreaterThanOrEqual(5);

      // Rebalance from the controller: every kept-alive connection is told to close.
      let closes = 0;
      registry.broadcast({ body: { $case: "rebalanceConnections", value: { fraction: 1, spreadMs: 50 } } });
      await new Promise((r) => setTimeout(r, 120));
      await Promise.all(
        Array.from(
          { length: 4 },
          () =>
            new Promise<void>((r) =>
              request({ host: "127.0.0.1", port, agent }, (res) => {
                if (res.headers.connection === "close") closes++;
                res.resume();
                res.on("end", r);
              }).end(),
            ),
        ),
      );
      expect(closes).toBe(4);
      agent.destroy();

      // A lazy agent loads on the controller's word, without waiting for a calm loop.
      const heavy = b.lazyAgent("profiler", () => 42, { calmForMs: 60_000 });
      registry.broadcast({ body: { $case: "loadLazyAgent", value: { name: "profiler" } } });
      await waitFor(() => heavy.state === "loaded", 2000, "the lazy agent");
      await waitFor(
        () => registry.list()[0]?.state.lazyAgents[0]?.state === LazyAgentState.LAZY_AGENT_STATE_LOADED,
        2000,
        "its status at the agent",
      );
    } finally {
      await b.close();
      server.closeAllConnections();
      server.close();
    }
  });
});
