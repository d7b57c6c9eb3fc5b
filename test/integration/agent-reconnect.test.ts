// The agent keeps a bounded buffer while the controller is away, drops the oldest reports, says how
// many it dropped, and reconnects with backoff when the controller comes back.
import { afterAll, describe, expect, it } from "vitest";
import { AgentLinkServer } from "../../controller/src/ingest/agent-link-server.js";
import { PodRegistry } from "../../controller/src/ingest/pod-registry.js";
import { agentCli, freePort, type Proc, run, waitFor } from "../support/processes.js";

let agent: Proc | undefined;
let server: AgentLinkServer | undefined;

afterAll(async () => {
  await agent?.stop();
  await server?.close();
});

describe("agent while the controller is unreachable", () => {
  it("buffers at most --buffer reports, drops the oldest, and delivers the rest on reconnect", async () => {
    const port = await freePort();
    agent = run(agentCli, [
      "--socket=/tmp/ballast-reconnect-test.sock",
      `--controller=127.0.0.1:${port}`,
      "--probe-host=127.0.0.1",
      "--probe-port=0",
      "--report-interval-ms=100",
      "--buffer=5",
      "--usage-source=none",
      "--pod-name=lonely",
    ]);
    // About 15 reports are made while nobody listens; only the newest 5 may survive.
    await new Promise((r) => setTimeout(r, 1500));
    const registry = new PodRegistry();
    server = new AgentLinkServer({ registry, clock: { now: () => Date.now() }, log: () => {} });
    await server.listen(`127.0.0.1:${port}`);
    const rec = await waitFor(() => registry.get("default", "lonely"), 15_000, "the agent to reconnect");
    await waitFor(() => rec.reports.length >= 6, 5000, "buffered and fresh reports");
    const first = rec.reports[0]!;
    expect(first.seq).toBeGreaterThan(5); // the oldest were dropped
    expect(first.droppedReports).toBeGreaterThan(0);
    expect(first.droppedReports).toBe(first.seq - 1); // every report before the first delivered was dropped
    const seqs = rec.reports.map((r) => r.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe((seqs[i - 1] as number) + 1);
  });
});
