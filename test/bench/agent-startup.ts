// The agent's footprint with one app connected, and how fast it answers probes after it starts.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { agentCli, freePort, repoRoot, run, waitFor } from "../support/processes.js";
import type { Figure } from "./figure.js";

const helloWorld = join(repoRoot, "sdk/dist/examples/hello-world/main.js");

function rssMib(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) / 1024;
}

/** Steady RSS of an agent with one instrumented app reporting every 100 ms and serving load. */
export async function agentRss(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), "ballast-bench-rss-"));
  const socket = join(dir, "agent.sock");
  const probePort = await freePort();
  const agent = run(agentCli, [
    `--socket=${socket}`,
    "--probe-host=127.0.0.1",
    `--probe-port=${probePort}`,
    "--report-interval-ms=100",
    "--usage-source=cgroup",
  ]);
  const appPort = await freePort();
  const app = run(helloWorld, [], {
    PORT: String(appPort),
    BALLAST_INSTRUMENT: "1",
    BALLAST_AGENT_SOCKET: socket,
  });
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${probePort}/readyz`)).ok, 10_000, "app ready");
    // Ten seconds of reports (100 per second) with requests flowing, then sample every 0.5 s for 3 s.
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      await Promise.all(
        Array.from({ length: 20 }, () => fetch(`http://127.0.0.1:${appPort}/`).then((r) => r.text())),
      );
      await new Promise((r) => setTimeout(r, 20));
    }
    const samples: number[] = [];
    for (let i = 0; i < 6; i++) {
      samples.push(rssMib(agent.child.pid));
      await new Promise((r) => setTimeout(r, 500));
    }
    return [{ name: "agent.rss_mib", value: Math.round(Math.max(...samples) * 10) / 10, unit: "MiB" }];
  } finally {
    await app.stop();
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Milliseconds from spawning the agent until its probe server answers /livez (median of 7). */
export async function agentStartToReady(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), "ballast-bench-start-"));
  const times: number[] = [];
  try {
    for (let i = 0; i < 7; i++) {
      const port = await freePort();
      const t0 = performance.now();
      const agent = run(agentCli, [
        `--socket=${join(dir, `a${i}.sock`)}`,
        "--probe-host=127.0.0.1",
        `--probe-port=${port}`,
        "--usage-source=cgroup",
      ]);
      try {
        for (;;) {
          const ok = await fetch(`http://127.0.0.1:${port}/livez`).then(
            (r) => r.ok,
            () => false,
          );
          if (ok) break;
          if (performance.now() - t0 > 10_000) throw new Error("agent did not answer /livez in 10 s");
          await new Promise((r) => setTimeout(r, 2));
        }
        times.push(performance.now() - t0);
      } finally {
        await agent.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  return [{ name: "agent.start_to_ready_ms", value: Math.round(times[3] as number), unit: "ms" }];
}
