// SDK overhead on a hello-world server, timed: the same server plain, with the SDK running beside it
// (connected to a real agent, not attached) and instrumented, measured alternately in the same run so
// machine noise hits all alike. Each server has a core to itself and is kept saturated (pipelined
// requests), so requests/s is its capacity: with one request per connection at a time, a server
// pinned to its own core answered faster than one load generator could ask (~68,000/s, under 90 % of
// a core) and an instrumented server came out "faster" than the plain one.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { startAgent } from "../support/processes.js";
import type { Figure } from "./figure.js";
import { type HelloMode, type HelloServer, startHelloWorld } from "./hello-world.js";
import { cpuNs } from "./sdk-cpu.js";
import { median, round } from "./stats.js";

const ROUNDS = 10;
const SECONDS = 2;
const PIPELINING = 10;

interface Run {
  requests: number;
  /** CPU seconds of all the server's threads (the scheduler's runtime in ns: exact, not ticked). */
  cpu: number;
}

async function throughput(server: HelloServer): Promise<Run> {
  const cpu0 = cpuNs(server.pid);
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}/`,
    connections: 20,
    duration: SECONDS,
    pipelining: PIPELINING,
  });
  return { requests: result.requests.total, cpu: (cpuNs(server.pid) - cpu0) / 1e9 };
}

export async function sdkOverhead(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), "ballast-bench-"));
  const socket = join(dir, "agent.sock");
  const agent = await startAgent(socket);
  const servers: HelloServer[] = [];
  try {
    const start = async (mode: HelloMode) => {
      const h = await startHelloWorld(mode, socket);
      servers.push(h);
      return h;
    };
    const plain = await start("plain");
    const background = await start("background");
    const inst = await start("instrumented");
    // Warm all up (JIT), then alternate.
    for (const h of servers) await throughput(h);
    // Rounds of plain, background and instrumented windows, and the median of each round's figures:
    // machine noise (other work on the cores) moves a round's windows alike. The order reverses every
    // round, so whatever favours the first (or last) window of a round cancels out.
    const ratios: number[] = [];
    const backgroundRatios: number[] = [];
    const diffsNs: number[] = [];
    const baseRpsAll: number[] = [];
    const rpsAll: number[] = [];
    const baseNsAll: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const order = i % 2 === 0 ? [plain, background, inst] : [inst, background, plain];
      const runs = new Map<HelloServer, Run>();
      for (const h of order) runs.set(h, await throughput(h));
      const b = runs.get(plain) as Run;
      const g = runs.get(background) as Run;
      const m = runs.get(inst) as Run;
      const rate = (r: Run) => Math.round(r.requests / SECONDS);
      const cores = (r: Run) => (r.cpu / SECONDS).toFixed(2);
      process.stderr.write(
        `  round ${i + 1}: plain ${rate(b)}/s (${cores(b)} cores), background ${rate(g)}/s, instrumented ${rate(m)}/s (${cores(m)} cores)\n`,
      );
      ratios.push(m.requests / b.requests);
      backgroundRatios.push(g.requests / b.requests);
      // The server's own CPU time per request, with and without the SDK: the difference is what the
      // SDK costs per request.
      diffsNs.push((m.cpu / m.requests - b.cpu / b.requests) * 1e9);
      baseRpsAll.push(b.requests / SECONDS);
      rpsAll.push(m.requests / SECONDS);
      baseNsAll.push((b.cpu / b.requests) * 1e9);
    }
    const baseRps = median(baseRpsAll);
    const rps = median(rpsAll);
    const baseNs = median(baseNsAll);
    const overheadNs = median(diffsNs);
    const ratio = median(ratios);
    return [
      {
        name: "sdk.http.throughput_ratio",
        value: round(ratio, 4),
        unit: "ratio",
        baseline: round(baseRps, 0),
        ratio: round(ratio, 4),
      },
      {
        // The SDK connected and reporting but not on the request path: what its background work
        // (report timer, event-loop sampling, the agent link) costs a busy server.
        name: "sdk.http.background_throughput_ratio",
        value: round(median(backgroundRatios), 4),
        unit: "ratio",
      },
      {
        name: "sdk.http.requests_per_s",
        value: round(rps, 0),
        unit: "req/s",
        baseline: round(baseRps, 0),
        // Medians of each side, so this ratio can differ from the median of paired ratios above.
        ratio: round(rps / baseRps, 4),
      },
      {
        // Timed, so machine noise included; sdk.http.overhead_ns is the counted figure (sdk-cpu.ts).
        name: "sdk.http.timed_overhead_ns",
        value: round(overheadNs, 0),
        unit: "ns/request",
        baseline: round(baseNs, 0),
        ratio: round((baseNs + overheadNs) / baseNs, 4),
      },
    ];
  } finally {
    for (const h of servers) await h.proc.stop();
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
