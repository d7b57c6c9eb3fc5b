#!/usr/bin/env node
import { writeFileSync } from "node:fs";
import { systemClock } from "../clock.js";
import { LocalMode } from "../local/local-mode.js";
import { ConfigFileError } from "../store/config-error.js";
import { loadLocalConfig } from "../store/local-config.js";
import { FlagError, type FlagValues, parseFlags } from "./flag-error.js";
import { isHostPort } from "./host-port.js";
import { isHttpUrl } from "./http-url.js";
import { KUBE_USAGE, runKube } from "./kube.js";
import { runSimulate, SIMULATE_USAGE } from "./simulate.js";

const USAGE = `ballast: autoscaling driven by in-process load signals

Usage:
  ballast start [--config FILE] [--duration S] [--json FILE] [--no-load] [--quiet]
      Local mode: runs each workload of FILE (default ballast.yaml) as real processes with their
      agents, puts a round-robin front before them, plays the load profile, and scales.
      --duration S   stop after S seconds (default: run until Ctrl-C)
      --json FILE    write {timeline, decisions} of the run to FILE
      --no-load      do not play the load profile (send your own traffic to the front)
      --quiet        no per-second line
      --api-listen HOST:PORT  serve the replica-control API (needs --token-file)
      --token-file FILE       API tokens, one "token,user[,group;group]" per line
      --state-file FILE       where API overrides persist (default .ballast/state.json beside the config)
      --audit-log FILE        append the API's audit trail to FILE as JSON lines
      --prometheus-url URL    Prometheus for policies' predictive.history (demand history at start-up)
${KUBE_USAGE}${SIMULATE_USAGE}  ballast --help
`;

function fail(message: string, code = 2): never {
  console.error(`ballast: ${message}`);
  process.exit(code);
}

async function start(args: string[]): Promise<void> {
  let values: FlagValues;
  try {
    values = parseFlags(args, {
      config: { type: "string", default: "ballast.yaml" },
      duration: { type: "string" },
      json: { type: "string" },
      "no-load": { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      "api-listen": { type: "string" },
      "token-file": { type: "string" },
      "state-file": { type: "string" },
      "audit-log": { type: "string" },
      "prometheus-url": { type: "string" },
      help: { type: "boolean", short: "h" },
    });
  } catch (e) {
    fail(`${(e as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  let duration: number | undefined;
  if (values.duration !== undefined) {
    duration = Number(values.duration);
    if (!Number.isFinite(duration) || duration <= 0)
      fail(`--duration: must be a positive number of seconds, got ${JSON.stringify(values.duration)}`);
  }
  let config: ReturnType<typeof loadLocalConfig>;
  try {
    config = loadLocalConfig(values.config as string);
  } catch (e) {
    if (e instanceof ConfigFileError) fail(`invalid configuration:\n${e.message}`);
    throw e;
  }
  const apiListen = values["api-listen"] as string | undefined;
  if (apiListen !== undefined && !isHostPort(apiListen))
    fail(`--api-listen: expected HOST:PORT, got ${JSON.stringify(apiListen)}`);
  if (apiListen !== undefined && values["token-file"] === undefined)
    fail("--token-file: required with --api-listen (the API never runs without authentication)");
  const prometheusUrl = values["prometheus-url"] as string | undefined;
  if (prometheusUrl !== undefined && !isHttpUrl(prometheusUrl))
    fail(`--prometheus-url: expected an http(s) URL, got ${JSON.stringify(prometheusUrl)}`);
  let mode: LocalMode;
  try {
    mode = new LocalMode({
      config,
      stateFile: values["state-file"] as string | undefined,
      api: apiListen
        ? {
            listen: apiListen,
            tokenFile: values["token-file"] as string,
            auditLog: values["audit-log"] as string | undefined,
          }
        : undefined,
      clock: systemClock,
      ...(prometheusUrl ? { prometheusUrl } : {}),
      load: !values["no-load"],
      print: values.quiet ? () => {} : (line) => process.stdout.write(`${line}\n`),
      log: (line) => process.stderr.write(`${line}\n`),
    });
  } catch (e) {
    fail((e as Error).message);
  }
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await mode.stop();
      if (values.json) writeFileSync(values.json as string, `${JSON.stringify(mode.result, null, 2)}\n`);
    })();
    return stopping;
  };
  process.once("SIGINT", () => void stop().then(() => process.exit(130)));
  process.once("SIGTERM", () => void stop().then(() => process.exit(143)));
  try {
    await mode.start();
  } catch (e) {
    // Never leave replicas behind: stop what did start, then report why.
    await stop();
    fail((e as Error).message, 1);
  }
  if (duration !== undefined) {
    await new Promise((r) => setTimeout(r, (duration as number) * 1000));
    await stop();
    const load = mode.result.load;
    if (load)
      process.stderr.write(
        `load: ${load.sent} sent, ${load.ok} ok, ${load.failed} failed, ${load.shed} shed\n`,
      );
  }
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case "start":
      return start(rest);
    case "kube":
      try {
        return await runKube(rest);
      } catch (e) {
        if (e instanceof FlagError) fail(`${e.message}\n${USAGE}`);
        throw e;
      }
    case "simulate":
      try {
        process.exitCode = await runSimulate(rest);
        return;
      } catch (e) {
        if (e instanceof FlagError) fail(e.message);
        throw e;
      }
    case undefined:
    case "-h":
    case "--help":
    case "help":
      process.stdout.write(USAGE);
      return;
    default:
      fail(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
  }
}

main().catch((e) => fail(e instanceof Error ? (e.stack ?? e.message) : String(e), 1));
