// Runs a real Prometheus (the Debian `prometheus` package: `prometheus` and `promtool` on PATH) on a
// free port, over a temporary TSDB backfilled from an OpenMetrics text, for tests that read history.
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./processes.js";

/** Why Prometheus cannot run here, or undefined when both binaries answer `--version`. */
export function prometheusMissing(): string | undefined {
  const absent = ["prometheus", "promtool"].filter(
    (bin) => spawnSync(bin, ["--version"], { stdio: "ignore" }).status !== 0,
  );
  if (absent.length === 0) return undefined;
  return `${absent.join(" and ")} not found on PATH (Debian: apt-get install prometheus)`;
}

export interface PrometheusServer {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  pid: number;
  /** What Prometheus logged so far. */
  output: () => string;
  /** SIGTERM, wait for the exit (SIGKILL after 10 s), then remove the data directory. */
  stop: () => Promise<void>;
}

export interface PrometheusOptions {
  /** OpenMetrics text (ending in `# EOF`) to backfill the TSDB with before the server starts. */
  openMetrics: string;
  /** How long to keep blocks; large, so backfilled data is never cut by retention. */
  retention?: string;
  readyTimeoutMs?: number;
  /** A live target ("host:port", /metrics) scraped every `intervalSeconds` beside the backfilled blocks. */
  scrape?: { target: string; intervalSeconds: number };
}

/** Backfills a fresh TSDB with `openMetrics`, starts Prometheus over it and waits for `/-/ready`. */
export async function startPrometheus(opts: PrometheusOptions): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), "ballast-prometheus-"));
  try {
    const input = join(dir, "history.om");
    const tsdb = join(dir, "tsdb");
    writeFileSync(input, opts.openMetrics);
    // Blocks up to a day long: a few blocks for days of history instead of one per two hours.
    execFileSync(
      "promtool",
      ["tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=24h", input, tsdb],
      { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
    );
    // Without a live target the backfilled blocks are the only data.
    const config = join(dir, "prometheus.yml");
    writeFileSync(
      config,
      opts.scrape
        ? `global:\n  scrape_interval: ${opts.scrape.intervalSeconds}s\nscrape_configs:\n  - job_name: live\n    static_configs:\n      - targets: ["${opts.scrape.target}"]\n`
        : "global:\n  scrape_interval: 1m\nscrape_configs: []\n",
    );

    // The free port can be taken between the probe and the bind; try again with another one.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const child = spawn(
        "prometheus",
        [
          `--config.file=${config}`,
          `--storage.tsdb.path=${tsdb}`,
          `--storage.tsdb.retention.time=${opts.retention ?? "3650d"}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
      );
      let out = "";
      const keep = (d: Buffer) => {
        out = (out + d.toString()).slice(-64 * 1024);
      };
      child.stdout?.on("data", keep);
      child.stderr?.on("data", keep);
      let gone = false;
      const exited = new Promise<void>((resolve) => {
        const done = () => {
          gone = true;
          resolve();
        };
        child.once("exit", done);
        child.once("error", (e) => {
          out += `\n${e.message}`;
          done();
        });
      });
      const url = `http://127.0.0.1:${port}`;
      const ready = await waitReady(url, () => gone, opts.readyTimeoutMs ?? 20_000);
      if (ready) {
        let stopping: Promise<void> | undefined;
        return {
          url,
          pid: child.pid as number,
          output: () => out,
          stop: () => {
            stopping ??= terminate(child, exited, () => gone).finally(() =>
              rmSync(dir, { recursive: true, force: true }),
            );
            return stopping;
          },
        };
      }
      await terminate(child, exited, () => gone);
      if (attempt < 3 && /address already in use/.test(out)) continue;
      throw new Error(`prometheus did not become ready on ${url}:\n${out.slice(-4000)}`);
    }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (e as { stderr?: Buffer }).stderr?.toString();
    throw stderr ? new Error(`promtool failed to backfill:\n${stderr.slice(-4000)}`, { cause: e }) : e;
  }
}

/** Polls `/-/ready`; false when the process exits or the time runs out first. */
async function waitReady(url: string, gone: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (gone()) return false;
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return true;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

async function terminate(child: ChildProcess, exited: Promise<void>, gone: () => boolean): Promise<void> {
  if (!gone()) {
    child.kill("SIGTERM");
    const force = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(force);
  }
}
