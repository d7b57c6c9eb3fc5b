// Resident memory of an idle agent: no app connected, no controller, after it has settled.
import { readFileSync } from "node:fs";
import { agentCli, run, waitFor } from "../support/processes.js";
import type { Figure } from "./figure.js";

export async function agentIdleRss(): Promise<Figure[]> {
  const agent = run(agentCli, [
    "--socket=/tmp/ballast-bench-idle.sock",
    "--probe-host=127.0.0.1",
    "--probe-port=0",
    "--usage-source=cgroup",
  ]);
  try {
    await waitFor(() => agent.output().includes("ballast-agent:"), 10_000, "agent");
    await new Promise((r) => setTimeout(r, 3000));
    const status = readFileSync(`/proc/${agent.child.pid}/status`, "utf8");
    const kib = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
    return [{ name: "agent.idle_rss_mib", value: Math.round((kib / 1024) * 10) / 10, unit: "MiB" }];
  } finally {
    await agent.stop();
  }
}
