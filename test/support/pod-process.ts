// One "pod" as real processes: a ballast-agent and the signal app (test/fixtures/signal-app.mjs) in
// their own process group, started by the local mode's replica launcher, with the Downward API
// environment a kubelet would give them (POD_NAME, POD_NAMESPACE, POD_UID, NODE_NAME).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { agentCli, repoRoot } from "./processes.js";

const launcher = join(repoRoot, "controller/dist/src/actuation/replica-launcher.js");
const signalApp = join(repoRoot, "test/fixtures/signal-app.mjs");

export interface PodProcessOptions {
  name: string;
  namespace: string;
  uid?: string;
  nodeName?: string;
  /** Logs and the agent's socket go to <dir>/<name>. */
  dir: string;
  controllers: string[];
  /** The agent's --workload (Kind/name), when the pod is not resolved through ownerReferences. */
  workload?: string;
  /** For the signal app: LOAD_FILE, DRAIN_DIR, REBALANCE_DIR. */
  env: Record<string, string>;
}

export interface PodProcess {
  child: ChildProcess;
  exited: Promise<void>;
}

export function startPodProcess(o: PodProcessOptions): PodProcess {
  const podDir = join(o.dir, o.name);
  mkdirSync(podDir, { recursive: true });
  const socketPath = join(podDir, "agent.sock");
  const spec = {
    socketPath,
    logDir: podDir,
    agent: {
      command: process.execPath,
      args: [
        agentCli,
        `--socket=${socketPath}`,
        `--controller=${o.controllers.join(",")}`,
        "--probe-host=127.0.0.1",
        "--probe-port=0",
        "--report-interval-ms=200",
        "--usage-source=none",
        ...(o.workload ? [`--workload=${o.workload}`] : []),
      ],
    },
    app: { command: process.execPath, args: [signalApp], cwd: repoRoot, env: {} },
  };
  const child = spawn(process.execPath, [launcher, JSON.stringify(spec)], {
    detached: true,
    stdio: ["ignore", "ignore", "inherit", "ipc"],
    env: {
      ...process.env,
      POD_NAME: o.name,
      POD_NAMESPACE: o.namespace,
      POD_UID: o.uid ?? "",
      NODE_NAME: o.nodeName ?? "",
      BALLAST_AGENT_SOCKET: socketPath,
      BALLAST_SERVICE: "signal-app",
      ...o.env,
    },
  });
  return { child, exited: new Promise<void>((resolve) => child.once("exit", () => resolve())) };
}

/** Signals a pod's whole process group; a group already gone is fine. */
export function signalPod(p: PodProcess, signal: NodeJS.Signals): void {
  if (p.child.pid === undefined) return;
  try {
    process.kill(-p.child.pid, signal);
  } catch {
    // Already gone.
  }
}
