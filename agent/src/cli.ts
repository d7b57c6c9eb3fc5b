#!/usr/bin/env node
import { hostname } from "node:os";
import { Agent } from "./agent.js";
import { ConfigError, parseAgentConfig, USAGE } from "./config.js";

async function main(): Promise<void> {
  let config: ReturnType<typeof parseAgentConfig>;
  try {
    config = parseAgentConfig(process.argv.slice(2), process.env, hostname());
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`ballast-agent: ${e.message}\nRun ballast-agent --help for the flags.`);
      process.exit(2);
    }
    throw e;
  }
  if (config === "help") {
    process.stdout.write(USAGE);
    return;
  }
  const agent = new Agent(config);
  await agent.start();
  console.error(
    `ballast-agent: pod ${config.namespace}/${config.podName} socket ${config.socketPath} probes ${config.probeHost}:${agent.probePort}` +
      (config.controllers.length > 0 ? ` controller ${config.controllers.join(", ")}` : " (no controller)"),
  );
  const stop = () => {
    void agent.stop().then(() => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main().catch((e) => {
  console.error(`ballast-agent: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
