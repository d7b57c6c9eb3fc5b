// Helpers for tests that run Ballast's real binaries as child processes.
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const repoRoot = join(import.meta.dirname, "..", "..");
export const agentCli = join(repoRoot, "agent/dist/src/cli.js");
export const ballastCli = join(repoRoot, "controller/dist/src/cli/main.js");
export const helloService = join(repoRoot, "sdk/dist/examples/hello-service/main.js");
export const helloWorld = join(repoRoot, "sdk/dist/examples/hello-world/main.js");

export interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  stop: () => Promise<void>;
}

/** Spawns a node script; collects its output; `stop` sends SIGTERM then SIGKILL. */
export function run(script: string, args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

import { freePort } from "../../controller/src/actuation/free-port.js";

export { freePort };

/**
 * Starts the hello-world example with BALLAST_INSTRUMENT=`instrument` ("0", "1" or "background"),
 * reporting to the agent at `agentSocket`; resolves once it listens.
 */
export async function runHelloWorld(
  instrument: string,
  agentSocket: string,
): Promise<{ port: number; proc: Proc }> {
  const port = await freePort();
  const proc = run(helloWorld, [], {
    PORT: String(port),
    BALLAST_INSTRUMENT: instrument,
    BALLAST_AGENT_SOCKET: agentSocket,
  });
  try {
    await waitFor(() => proc.output().includes("listening"), 10_000, `hello-world (${instrument})`);
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return { port, proc };
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

/** PIDs of live processes whose environment holds `marker` (a unique value the test set). */
export function processesWithMarker(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, "utf8");
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      if (state !== "Z" && env.includes(marker)) pids.push(Number(entry));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return pids;
}

/**
 * A ballast-agent for an app on `socket`, as the benches use it: probes on a free port of its own
 * choosing, no cgroup reading; resolves once it listens.
 */
export async function startAgent(socket: string): Promise<Proc> {
  const agent = run(agentCli, [
    `--socket=${socket}`,
    "--probe-host=127.0.0.1",
    "--probe-port=0",
    "--usage-source=none",
  ]);
  try {
    await waitFor(() => agent.output().includes("ballast-agent:"), 10_000, "agent");
  } catch (e) {
    await agent.stop();
    throw e;
  }
  return agent;
}
