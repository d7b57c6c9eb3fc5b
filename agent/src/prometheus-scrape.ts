import { get } from "node:http";
import { DrainState } from "@ballast/proto";
import type { AppRegistry, ConnectedApp } from "./app-registry.js";
import { externalLoadReport } from "./external-window.js";

/** Largest scrape body read; a longer one fails the scrape (memory stays bounded). */
export const MAX_SCRAPE_BYTES = 4 * 1024 * 1024;

/** One sample of the Prometheus text format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/g;

/** Parses the Prometheus text exposition format (0.0.4); comments and bad lines are skipped. */
export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const value =
      m[3] === "+Inf" ? Number.POSITIVE_INFINITY : m[3] === "-Inf" ? Number.NEGATIVE_INFINITY : Number(m[3]);
    if (Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    if (m[2]) {
      for (const l of m[2].matchAll(LABEL)) {
        labels[l[1] as string] = (l[2] as string).replace(/\\n/g, "\n").replace(/\\(.)/g, "$1");
      }
    }
    out.push({ name: m[1] as string, labels, value });
  }
  return out;
}

export interface ScrapeMapping {
  /** Gauge whose samples add up to the requests in flight. */
  inflight: string;
  /** Counter whose samples add up to the requests completed; those with code/status 5xx are errors. */
  requests: string;
  /** Other metrics reported as gauges, by their sanitized names. */
  gauges: string[];
}

function sum(
  samples: Sample[],
  name: string,
  filter: (s: Sample) => boolean = () => true,
): number | undefined {
  let total: number | undefined;
  for (const s of samples) {
    if (s.name === name && Number.isFinite(s.value) && filter(s)) total = (total ?? 0) + s.value;
  }
  return total;
}

const isServerError = (s: Sample) =>
  /^5/.test(s.labels.code ?? s.labels.status ?? s.labels.status_code ?? "");

/** A gauge name the protocol accepts, from a Prometheus metric name. */
export function gaugeName(metric: string): string {
  const n = metric
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, "_")
    .replace(/^[^a-z]+/, "");
  return (n || "metric").slice(0, 63);
}

export interface ScraperOptions {
  url: string;
  serviceName: string;
  intervalMs: number;
  mapping: ScrapeMapping;
  registry: AppRegistry;
  /** How long a drained scrape target keeps being reported draining before it counts as drained. */
  drainWaitMs: number;
  log: (line: string) => void;
}

/**
 * Scrapes an app's Prometheus endpoint (any language) and reports it as an app: requests in flight,
 * completed and failed requests (counter deltas, resets handled), chosen gauges; ready while scrapes
 * succeed. Such an app cannot be told to drain, so on a drain it is reported draining for
 * `drainWaitMs` (routing moves away meanwhile, as with a preStop sleep) and then drained.
 */
export class PrometheusScraper {
  private timer: NodeJS.Timeout | undefined;
  private app: ConnectedApp | undefined;
  private lastAt = 0;
  private lastRequests: number | undefined;
  private lastErrors: number | undefined;
  private drain = DrainState.DRAIN_STATE_SERVING;
  private failures = 0;

  constructor(private readonly options: ScraperOptions) {}

  start(): void {
    const o = this.options;
    this.app = o.registry.add(o.serviceName, 0, (command) => {
      if (command.body?.$case !== "drain" || this.drain !== DrainState.DRAIN_STATE_SERVING) return;
      this.drain = DrainState.DRAIN_STATE_DRAINING;
      this.pushState(false, 0);
      const wait = Math.min(command.body.value.deadlineMs || o.drainWaitMs, o.drainWaitMs);
      setTimeout(() => {
        this.drain = DrainState.DRAIN_STATE_DRAINED;
        this.pushState(false, 0);
      }, wait).unref();
    });
    this.lastAt = Date.now();
    const tick = () => {
      void this.scrapeOnce().finally(() => {
        if (this.app) this.timer = setTimeout(tick, o.intervalMs);
      });
    };
    tick();
  }

  private pushState(ready: boolean, inflight: number): void {
    if (!this.app) return;
    this.options.registry.setState(this.app, {
      ready: ready && this.drain === DrainState.DRAIN_STATE_SERVING,
      drain: this.drain,
      inflight,
      warmingUp: false,
      pendingGates: [],
      lazyAgents: [],
    });
  }

  async scrapeOnce(): Promise<void> {
    const o = this.options;
    let samples: Sample[];
    try {
      samples = parsePrometheusText(await fetchText(o.url, Math.max(500, o.intervalMs)));
      this.failures = 0;
    } catch (e) {
      if (this.failures++ % 30 === 0) o.log(`scrape: ${o.url}: ${(e as Error).message}`);
      this.pushState(false, 0);
      return;
    }
    const now = Date.now();
    const inflight = Math.max(0, Math.round(sum(samples, o.mapping.inflight) ?? 0));
    const requests = sum(samples, o.mapping.requests) ?? 0;
    const errors = sum(samples, o.mapping.requests, isServerError) ?? 0;
    // A counter that went down was reset (the app restarted): count from zero.
    const delta = (cur: number, prev: number | undefined) =>
      prev === undefined ? 0 : cur >= prev ? cur - prev : cur;
    const completed = Math.round(delta(requests, this.lastRequests));
    const failed = Math.min(completed, Math.round(delta(errors, this.lastErrors)));
    this.lastRequests = requests;
    this.lastErrors = errors;
    const gauges: Record<string, number> = {};
    for (const g of o.mapping.gauges.slice(0, 64)) {
      const v = sum(samples, g);
      if (v !== undefined && v >= 0) gauges[gaugeName(g)] = v;
    }
    if (this.app) {
      o.registry.addLoad(
        this.app,
        externalLoadReport({
          startMs: this.lastAt,
          endMs: now,
          inflight,
          completed,
          errors: failed,
          gauges,
          counters: {},
        }),
      );
    }
    this.lastAt = now;
    this.pushState(true, inflight);
  }

  stop(): void {
    clearTimeout(this.timer);
    if (this.app) this.options.registry.remove(this.app);
    this.app = undefined;
  }
}

function fetchText(url: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: timeoutMs }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`HTTP ${res.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > MAX_SCRAPE_BYTES) {
          req.destroy(new Error(`body larger than ${MAX_SCRAPE_BYTES} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}
