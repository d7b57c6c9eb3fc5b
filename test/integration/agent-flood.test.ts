// A misbehaving app floods the agent with reports as fast as gRPC carries them: the agent's memory stays
// bounded (windows merge beyond 32 per app) and it keeps answering its probes.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLIENT_CHANNEL_OPTIONS, DrainState, PodLinkClient, PROTOCOL_VERSION } from "@ballast/proto";
import { credentials } from "@grpc/grpc-js";
import { afterAll, describe, expect, it } from "vitest";
import { agentCli, freePort, run, waitFor } from "../support/processes.js";

const dir = mkdtempSync(join(tmpdir(), "ballast-flood-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rssMib = (pid: number | undefined) =>
  Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) / 1024;

describe("agent under a flood of reports", () => {
  it("keeps memory bounded and stays live", async () => {
    const socket = join(dir, "agent.sock");
    const probe = await freePort();
    const agent = run(agentCli, [
      `--socket=${socket}`,
      "--probe-host=127.0.0.1",
      `--probe-port=${probe}`,
      "--usage-source=none",
    ]);
    const client = new PodLinkClient(
      `unix://${socket}`,
      credentials.createInsecure(),
      CLIENT_CHANNEL_OPTIONS,
    );
    try {
      await waitFor(() => agent.output().includes("ballast-agent:"), 10_000, "agent");
      const call = client.connect();
      call.on("data", () => {});
      call.on("error", () => {});
      call.write({
        body: {
          $case: "hello",
          value: {
            serviceName: "flood",
            pid: 4242,
            sdkVersion: "t",
            protocolVersion: PROTOCOL_VERSION,
            runtime: "",
          },
        },
      });
      const gauges = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`g${i}`, i]));
      const t = Date.now();
      let n = 0;
      const flood = async (count: number) => {
        for (let i = 0; i < count; i++, n++) {
          const ok = call.write({
            body: {
              $case: "report",
              value: {
                windowStart: new Date(t + n),
                windowEnd: new Date(t + n + 1),
                inflightNow: 1,
                inflightAvg: 1,
                inflightMax: 1,
                requestsCompleted: 1,
                errors: 0,
                latency: { boundsMs: [1, 10], counts: [1, 0, 0], sumMs: 0.5 },
                eventLoop: undefined,
                heap: undefined,
                gauges,
                gcPauseMs: 0,
                warmingUp: false,
                counters: {},
              },
            },
          });
          if (!ok) await new Promise((r) => call.once("drain", r));
        }
        // Let the agent read what was sent.
        await new Promise((r) => setTimeout(r, 500));
        return rssMib(agent.child.pid);
      };
      const before = rssMib(agent.child.pid);
      const rss = [await flood(15_000), await flood(15_000), await flood(15_000), await flood(15_000)];
      call.write({
        body: {
          $case: "state",
          value: {
            ready: true,
            drain: DrainState.DRAIN_STATE_SERVING,
            inflight: 0,
            warmingUp: false,
            pendingGates: [],
            lazyAgents: [],
          },
        },
      });
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${probe}/readyz`)).ok,
        20_000,
        "the flood to be read",
      );
      expect((await fetch(`http://127.0.0.1:${probe}/livez`)).status).toBe(200);
      // 60,000 reports of ~1.5 KiB each would be ~90 MiB if they were kept. The heap grows to absorb
      // the bursts' garbage, then stays: the last flood adds (almost) nothing.
      const trace = `RSS ${before.toFixed(1)} → ${rss.map((r) => r.toFixed(1)).join(" → ")} MiB`;
      expect((rss[3] as number) - (rss[2] as number), trace).toBeLessThan(8);
      expect(Math.max(...rss), trace).toBeLessThan(120);
      call.end();
    } finally {
      client.close();
      await agent.stop();
    }
  });
});
