// SDK overhead on a hello-world server: the same server with and without instrument(), connected to a
// real agent, measured alternately in the same run so machine noise hits both alike.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { agentCli, freePort, repoRoot, run, waitFor } from "../support/processes.js";
import type { Figure } from "./figure.js";

const helloWorld = join(repoRoot, "sdk/dist/examples/hello-world/main.js");
const ROUNDS = 3;
const SECONDS = 3;

async function throughput(port: number): Promise<number> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/`,
    connections: 20,
    duration: SECONDS,
    pipelining: 1,
  });
  return result.requests.total / SECONDS;
}

async function serve(instrumented: boolean, socket: string) {
  const port = await freePort();
  const p = run(helloWorld, [], {
    PORT: String(port),
    BALLAST_INSTRUMENT: instrumented ? "1" : "0",
    BALLAST_AGENT_SOCKET: socket,
  });
  await waitFor(() => p.output().includes("listening"), 10_000, "hello-world");
  return { port, p };
}

export async function sdkOverhead(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), "ballast-bench-"));
  const socket = join(dir, "agent.sock");
  const agent = run(agentCli, [
    `--socket=${socket}`,
    "--probe-host=127.0.0.1",
    "--probe-port=0",
    "--usage-source=none",
  ]);
  await waitFor(() => agent.output().includes("ballast-agent:"), 10_000, "agent");
  const plain = await serve(false, socket);
  const inst = await serve(true, socket);
  try {
    // Warm both up (JIT), then alternate.
    await throughput(plain.port);
    await throughput(inst.port);
    let base = 0;
    let measured = 0;
    for (let i = 0; i < ROUNDS; i++) {
      base += await throughput(plain.port);
      measured += await throughput(inst.port);
    }
    base /= ROUNDS;
    measured /= ROUNDS;
    const overheadNs = 1e9 / measured - 1e9 / base;
    return [
      {
        name: "sdk.http.throughput_ratio",
        value: round(measured / base, 4),
        unit: "ratio",
        baseline: round(base, 0),
        ratio: round(measured / base, 4),
      },
      {
        name: "sdk.http.requests_per_s",
        value: round(measured, 0),
        unit: "req/s",
        baseline: round(base, 0),
        ratio: round(measured / base, 4),
      },
      { name: "sdk.http.overhead_ns", value: round(overheadNs, 0), unit: "ns/request" },
    ];
  } finally {
    await plain.p.stop();
    await inst.p.stop();
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
