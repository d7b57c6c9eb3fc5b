// Time-to-ready of a service with a heavy agent loaded eagerly (before ready) vs lazily (lazyAgent),
// side by side in the same run: from spawning the service until its agent's /readyz answers 200.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { agentCli, freePort, repoRoot, run, waitFor } from "../support/processes.js";
import type { Figure } from "./figure.js";

const lazyApp = join(repoRoot, "test/fixtures/lazy-app.mjs");
const ROUNDS = 5;

export async function lazyReady(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), "ballast-bench-lazy-"));
  const socket = join(dir, "agent.sock");
  const probePort = await freePort();
  const agent = run(agentCli, [
    `--socket=${socket}`,
    "--probe-host=127.0.0.1",
    `--probe-port=${probePort}`,
    "--usage-source=none",
  ]);
  const readyz = () =>
    fetch(`http://127.0.0.1:${probePort}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
  const once = async (mode: "eager" | "lazy") => {
    const t0 = performance.now();
    const app = run(lazyApp, [], { MODE: mode, BALLAST_AGENT_SOCKET: socket });
    try {
      while (!(await readyz())) {
        if (performance.now() - t0 > 20_000) throw new Error(`${mode}: not ready in 20 s\n${app.output()}`);
        await new Promise((r) => setTimeout(r, 2));
      }
      const ms = performance.now() - t0;
      let loadMs = Number.NaN;
      if (mode === "lazy") {
        const line = await waitFor(
          () => /lazy agent loaded in (\d+) ms/.exec(app.output()),
          20_000,
          "lazy load",
        );
        loadMs = Number(line[1]);
      }
      return { ms, loadMs };
    } finally {
      await app.stop();
      await waitFor(async () => !(await readyz()), 5000, "the agent to see the app go");
    }
  };
  try {
    await waitFor(() => agent.output().includes("ballast-agent:"), 10_000, "agent");
    await once("eager"); // warm the file cache
    const eager: number[] = [];
    const lazy: number[] = [];
    const lazyLoad: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      eager.push((await once("eager")).ms);
      const l = await once("lazy");
      lazy.push(l.ms);
      lazyLoad.push(l.loadMs);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const e = median(eager);
    const l = median(lazy);
    return [
      {
        name: "sdk.lazy_ready_ratio",
        value: Math.round((l / e) * 1000) / 1000,
        unit: "ratio",
        baseline: Math.round(e),
        ratio: Math.round((l / e) * 1000) / 1000,
      },
      {
        name: "sdk.lazy_ready_ms",
        value: Math.round(l),
        unit: "ms",
        baseline: Math.round(e),
        ratio: Math.round((l / e) * 1000) / 1000,
      },
      { name: "sdk.lazy_agent_load_ms", value: Math.round(median(lazyLoad)), unit: "ms" },
    ];
  } finally {
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
