// SDK → agent → controller over real sockets, with real processes: reports flow, readiness is pushed,
// a drain command travels down and the app drains.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DrainState } from "@ballast/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentLinkServer } from "../../controller/src/ingest/agent-link-server.js";
import { PodRegistry } from "../../controller/src/ingest/pod-registry.js";
import { signalValue } from "../../controller/src/metrics/signals.js";
import { agentCli, freePort, helloService, type Proc, run, waitFor } from "../support/processes.js";

const dir = mkdtempSync(join(tmpdir(), "ballast-links-"));
const registry = new PodRegistry();
const logs: string[] = [];
const server = new AgentLinkServer({ registry, clock: { now: () => Date.now() }, log: (l) => logs.push(l) });
let agent: Proc;
let app: Proc;
let probePort: number;
let appPort: number;

beforeAll(async () => {
  const port = await server.listen("127.0.0.1:0");
  probePort = await freePort();
  appPort = await freePort();
  const socket = join(dir, "agent.sock");
  agent = run(agentCli, [
    `--socket=${socket}`,
    `--controller=127.0.0.1:${port}`,
    "--probe-host=127.0.0.1",
    `--probe-port=${probePort}`,
    "--report-interval-ms=200",
    "--usage-source=process",
    "--namespace=shop",
    "--pod-name=web-7f9c-abcde",
    "--workload=Deployment/web",
  ]);
  await waitFor(() => registry.get("shop", "web-7f9c-abcde"), 10_000, "the agent's hello");
  app = run(helloService, [], {
    BALLAST_AGENT_SOCKET: socket,
    PORT: String(appPort),
    WORK_MS: "1",
    IO_MS: "20",
  });
});

afterAll(async () => {
  await app?.stop();
  await agent?.stop();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("PodLink and AgentLink, end to end", () => {
  it("carries the pod identity from the agent's flags", () => {
    const rec = registry.get("shop", "web-7f9c-abcde");
    expect(rec?.identity.workload).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "web" });
    expect(rec?.reportIntervalMs).toBe(200);
  });

  it("pushes readiness and load from the app through the agent to the controller", async () => {
    const rec = registry.get("shop", "web-7f9c-abcde");
    if (!rec) throw new Error("no record");
    await waitFor(() => rec.reports.at(-1)?.apps[0]?.ready, 10_000, "the app to report ready");
    expect((await fetch(`http://127.0.0.1:${probePort}/readyz`)).status).toBe(200);
    for (let i = 0; i < 20; i++) await fetch(`http://127.0.0.1:${appPort}/`).then((r) => r.text());
    const withLoad = await waitFor(
      () => rec.reports.find((r) => (r.apps[0]?.load?.requestsCompleted ?? 0) > 0),
      5000,
      "a report with completed requests",
    );
    expect(withLoad.apps[0]).toMatchObject({ serviceName: "hello", drain: DrainState.DRAIN_STATE_SERVING });
    // Every app window reaches the controller exactly once, whatever the periods.
    await new Promise((r) => setTimeout(r, 600));
    const total = rec.reports.reduce((s, r) => s + (r.apps[0]?.load?.requestsCompleted ?? 0), 0);
    expect(total).toBe(20);
    expect(signalValue(withLoad, "rps")).toBeGreaterThan(0);
    expect(withLoad.cgroup).toMatchObject({ available: true, source: "process" });
    const seqs = rec.reports.map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it("sends a drain down to the app; readiness goes false and the app reports drained", async () => {
    const rec = registry.get("shop", "web-7f9c-abcde");
    if (!rec) throw new Error("no record");
    expect(
      registry.send("shop", "web-7f9c-abcde", {
        body: { $case: "drain", value: { deadlineMs: 2000, reason: "test" } },
      }),
    ).toBe(true);
    await waitFor(
      () => rec.reports.at(-1)?.apps[0]?.drain === DrainState.DRAIN_STATE_DRAINED,
      5000,
      "drained",
    );
    expect(rec.reports.at(-1)?.apps[0]?.ready).toBe(false);
    expect((await fetch(`http://127.0.0.1:${probePort}/readyz`)).status).toBe(503);
    // Liveness does not fail because the app drains.
    expect((await fetch(`http://127.0.0.1:${probePort}/livez`)).status).toBe(200);
    await expect(fetch(`http://127.0.0.1:${appPort}/`)).rejects.toThrow();
  });
});
