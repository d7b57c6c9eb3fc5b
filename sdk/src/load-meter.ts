import {
  type EventLoopUtilization,
  type IntervalHistogram,
  monitorEventLoopDelay,
  performance,
} from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";
import type { LoadReport } from "@ballast/proto";
import { LatencyHistogram } from "./latency-histogram.js";

/** Resolution of the event-loop delay timer in ms; subtracted from readings (it is the timer's own period). */
const ELD_RESOLUTION_MS = 10;
const NS_PER_MS = 1e6;

export type GaugeFn = () => number;

/**
 * Measures the load of one process over report windows: requests in flight (time-weighted), completions,
 * errors, latency, event-loop delay and utilization, heap and custom gauges. `begin`/`end` are the hot
 * path and only touch numbers; everything else happens once per window in `take`.
 */
export class LoadMeter {
  private inflight = 0;
  private inflightMax = 0;
  private area = 0; // Σ inflight × ms since the window started
  private lastChange: number;
  private windowStart: number; // performance.now() at window start
  private windowStartWall: number; // Date.now() at window start
  private completed = 0;
  private errors = 0;
  private readonly latency = new LatencyHistogram();
  private readonly eld: IntervalHistogram;
  private elu: EventLoopUtilization;
  private readonly gauges = new Map<string, GaugeFn>();

  constructor() {
    // Enabled by `startWindows`: a process with no agent to report to runs no timer at all.
    this.eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
    this.elu = performance.eventLoopUtilization();
    this.windowStart = this.lastChange = performance.now();
    this.windowStartWall = Date.now();
  }

  get inflightNow(): number {
    return this.inflight;
  }

  /** A request started; returns its start time for `end`. */
  begin(): number {
    const now = performance.now();
    this.area += this.inflight * (now - this.lastChange);
    this.lastChange = now;
    if (++this.inflight > this.inflightMax) this.inflightMax = this.inflight;
    return now;
  }

  /** A request that began at `startedAt` finished. */
  end(startedAt: number, failed: boolean): void {
    const now = performance.now();
    this.area += this.inflight * (now - this.lastChange);
    this.lastChange = now;
    this.inflight--;
    this.completed++;
    if (failed) this.errors++;
    this.latency.record(now - startedAt);
  }

  /** Starts event-loop sampling and a fresh window; called when there is somewhere to report to. */
  startWindows(): void {
    this.eld.enable();
    this.elu = performance.eventLoopUtilization();
    this.windowStart = this.lastChange = performance.now();
    this.windowStartWall = Date.now();
    this.area = 0;
    this.inflightMax = this.inflight;
    this.completed = 0;
    this.errors = 0;
    this.latency.take();
  }

  /** Registers (or replaces) a gauge sampled at the end of every window. */
  gauge(name: string, fn: GaugeFn): void {
    this.gauges.set(name, fn);
  }

  /** The report for the window that ends now; starts the next window. */
  take(): LoadReport {
    const now = performance.now();
    const wallNow = Date.now();
    this.area += this.inflight * (now - this.lastChange);
    this.lastChange = now;
    const windowMs = Math.max(now - this.windowStart, 1e-3);
    const { counts, sumMs } = this.latency.take();
    const elu = performance.eventLoopUtilization(this.elu);
    this.elu = performance.eventLoopUtilization();
    const gauges: Record<string, number> = {};
    for (const [name, fn] of this.gauges) {
      try {
        const v = fn();
        // A broken gauge must not poison the report: drop values the protocol would refuse.
        if (Number.isFinite(v) && v >= 0) gauges[name] = v;
      } catch {
        // The gauge is left out of this window; the app's own code failed, not the report.
      }
    }
    const heap = getHeapStatistics();
    const report: LoadReport = {
      windowStart: new Date(this.windowStartWall),
      windowEnd: new Date(Math.max(wallNow, this.windowStartWall + 1)),
      inflightNow: this.inflight,
      inflightAvg: Math.min(this.area / windowMs, this.inflightMax),
      inflightMax: this.inflightMax,
      requestsCompleted: this.completed,
      errors: this.errors,
      latency: { boundsMs: [...this.latency.bounds], counts, sumMs },
      eventLoop: {
        delayP50Ms: eldMs(this.eld.percentile(50)),
        delayP99Ms: eldMs(this.eld.percentile(99)),
        delayMaxMs: eldMs(this.eld.max),
        delayMeanMs: eldMs(this.eld.mean),
        utilization: Math.min(Math.max(elu.utilization, 0), 1),
      },
      heap: { usedBytes: heap.used_heap_size, limitBytes: heap.heap_size_limit },
      gauges,
    };
    this.eld.reset();
    this.windowStart = now;
    this.windowStartWall = wallNow;
    this.area = 0;
    this.inflightMax = this.inflight;
    this.completed = 0;
    this.errors = 0;
    return report;
  }

  close(): void {
    this.eld.disable();
  }
}

function eldMs(ns: number): number {
  // An empty histogram (a loop blocked for the whole window) reads NaN or a huge sentinel; report 0.
  if (!Number.isFinite(ns) || ns <= 0 || ns > Number.MAX_SAFE_INTEGER) return 0;
  return Math.max(ns / NS_PER_MS - ELD_RESOLUTION_MS, 0);
}
