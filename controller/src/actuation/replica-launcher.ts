// One local replica: starts the replica's agent, then its app, in this process's own process group, so
// that the pool stops a replica with one signal to the group. If the controller that started it goes
// away (its IPC channel closes, even after a SIGKILL), the whole group is stopped: no orphans.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, openSync } from "node:fs";
import { join } from "node:path";

export interface LauncherSpec {
  agent: { command: string; args: string[] };
  app: { command: string; args: string[]; env: Record<string, string>; cwd: string };
  socketPath: string;
  logDir: string;
}

const spec = JSON.parse(process.argv[2] ?? "{}") as LauncherSpec;
const children: ChildProcess[] = [];
let stopping = false;

function log(name: string): number {
  return openSync(join(spec.logDir, `${name}.log`), "a");
}

function stopGroup(): void {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.kill("SIGTERM");
  setTimeout(() => {
    for (const c of children) c.kill("SIGKILL");
    process.exit(1);
  }, 5000).unref();
}

process.on("disconnect", stopGroup);
process.on("SIGTERM", () => {
  // The app drains on SIGTERM; the agent follows once the app is gone (see the app's exit below).
  const app = children[1];
  if (app && app.exitCode === null) app.kill("SIGTERM");
  else stopGroup();
});

async function main(): Promise<void> {
  const agentLog = log("agent");
  const agent = spawn(spec.agent.command, spec.agent.args, { stdio: ["ignore", agentLog, agentLog] });
  children.push(agent);
  agent.on("exit", (code) => {
    if (!stopping) {
      stopGroup();
      process.exitCode = code ?? 1;
    }
  });
  // The SDK reconnects by itself, but starting the app after the socket exists saves a retry.
  for (let i = 0; i < 100 && !existsSync(spec.socketPath); i++) await new Promise((r) => setTimeout(r, 20));
  const appLog = log("app");
  const app = spawn(spec.app.command, spec.app.args, {
    cwd: spec.app.cwd,
    env: { ...process.env, ...spec.app.env },
    stdio: ["ignore", appLog, appLog],
  });
  children.push(app);
  app.on("exit", (code, signal) => {
    process.exitCode = code ?? (signal ? 1 : 0);
    stopGroup();
    // Exit as soon as the agent is gone.
    agent.once("exit", () => process.exit());
    if (agent.exitCode !== null) process.exit();
  });
}

main().catch((e) => {
  console.error(`replica-launcher: ${(e as Error).message}`);
  stopGroup();
});
