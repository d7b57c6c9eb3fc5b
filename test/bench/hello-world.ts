// The hello-world server the SDK benches measure, in one of its three modes, pinned to a core of its own.
import { execFileSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { type Proc, runHelloWorld } from "../support/processes.js";

/**
 * plain: no SDK. background: the SDK connected to the agent (reports, event-loop sampling) but not on
 * the request path. instrumented: `instrument(server)`, as deployed.
 */
export type HelloMode = "plain" | "background" | "instrumented";

export interface HelloServer {
  mode: HelloMode;
  port: number;
  pid: number;
  proc: Proc;
}

const ENV: Record<HelloMode, string> = { plain: "0", background: "background", instrumented: "1" };

/**
 * The example's BALLAST_INSTRUMENT for `mode`. BENCH_AA=1 makes every mode plain, so the figures show
 * the method's own noise.
 */
export function instrumentEnv(mode: HelloMode): string {
  return process.env.BENCH_AA ? "0" : ENV[mode];
}

/** Starts hello-world in `mode`, connected to the agent at `socket`, pinned to the last core. */
export async function startHelloWorld(mode: HelloMode, socket: string): Promise<HelloServer> {
  const { port, proc } = await runHelloWorld(instrumentEnv(mode), socket);
  const pid = proc.child.pid as number;
  pinToLastCore(pid);
  return { mode, port, pid, proc };
}

/**
 * Every thread of `pid` onto the last core, so the load generator (this process) and the agent run on
 * the others, as a client on another machine would: unpinned, a server's CPU per request also moves
 * with whether the scheduler put the client beside it. Needs two cores and util-linux's taskset;
 * without them the server stays where it is.
 */
function pinToLastCore(pid: number): void {
  const cores = availableParallelism();
  if (cores < 2) return;
  try {
    execFileSync("taskset", ["-a", "-c", "-p", String(cores - 1), String(pid)], { stdio: "ignore" });
  } catch {
    // No taskset (or not permitted): measured unpinned.
  }
}
