import {
  type EventLoopUtilization,
  type IntervalHistogram,
  monitorEventLoopDelay,
  PerformanceObserver,
  performance,
} from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";
import type { LoadReport } from "@ballast/proto";
import { now } from "./clock.js";
import { LatencyHistogram } from "./latency-histogram.js";

/** Resolution of the event-loop delay timer in ms; subtracted from readings (it is the timer's own period). */
const ELD_RESOLUTION_MS = 10;
const NS_PER_MS = 1e6;

export type GaugeFn = () => number;

/** A counter the app increments (jobs done, bytes sent); reported as its growth per window. */
export interface Counter {
  readonly name: string;
  /** Adds `by` (default 1); negative or non-finite values are ignored. */
  inc(by?: number): void;
}

/** Running totals since the meter started, for Prometheus export (read, never reset). */
export interface MeterTotals {
  requestsCompleted: number;
  errors: number;
  latencyCounts: number[];
  latencySumMs: number;
  gcPauseMs: number;
  counters: Record<string, number>;
}

/**
 * Measures the load of one process over report windows: requests in flight (time-weighted), completions,
 * errors, latency, event-loop delay and utilization, heap and custom gauges. `begin`/`end` are the hot
 * path and only touch numbers; everything else happens once per window in `take`.
 */
export class LoadMeter {
  private inflight = 0;
  private inflightMax = 0;
  private area = 0; // Σ inflight × ms since the window started
  // Set here, not only in the constructor: a field that starts out undefined is stored tagged, so each
  // request's time would become a new heap number behind a write barrier; one that starts as a
  // fractional number is updated in place.
  private lastChange = now();
  private windowStart = now(); // now() at window start
  private windowStartWall: number; // Date.now() at window start
  private completed = 0;
  private errors = 0;
  private readonly latency = new LatencyHistogram();
  private readonly eld: IntervalHistogram;
  private elu: EventLoopUtilization;
  private readonly gauges = new Map<string, GaugeFn>();
  private readonly counters = new Map<string, { window: number; total: number }>();
  private gcObserver: PerformanceObserver | undefined;
  private gcMs = 0;
  private warmingInWindow = false;
  /** now() (performance.now()'s timebase) of the latest request arrival; -Infinity before the first. */
  lastArrival = Number.NEGATIVE_INFINITY;
  /** Whether the app is warming up; read at every window end. */
  warmingUp: () => boolean = () => false;
  /** The report made by the latest `take`, for exporters that must not reset anything. */
  last: LoadReport | undefined;
  readonly totals: MeterTotals;

  constructor() {
    // Enabled by `startWindows`: a process with no agent to report to runs no timer at all.
    this.eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
    this.elu = performance.eventLoopUtilization();
    this.windowStart = this.lastChange = now();
    this.windowStartWall = Date.now();
    this.totals = {
      requestsCompleted: 0,
      errors: 0,
      latencyCounts: new Array(this.latency.bounds.length + 1).fill(0),
      latencySumMs: 0,
      gcPauseMs: 0,
      counters: {},
    };
  }

  get inflightNow(): number {
    return this.inflight;
  }

  /** A request started; returns its start time (`now()`) for `end`. */
  begin(): number {
    // now(), not performance.now(): the same clock for about half the instructions (see clock.ts).
    const t = now();
    this.area += this.inflight * (t - this.lastChange);
    this.lastChange = t;
    this.lastArrival = t;
    if (++this.inflight > this.inflightMax) this.inflightMax = this.inflight;
    return t;
  }

  /** A request that began at `startedAt` finished. */
  end(startedAt: number, failed: boolean): void {
    const t = now();
    this.area += this.inflight * (t - this.lastChange);
    this.lastChange = t;
    this.inflight--;
    this.completed++;
    if (failed) this.errors++;
    this.latency.record(t - startedAt);
  }

  /** Starts event-loop sampling and a fresh window; called when there is somewhere to report to. */
  startWindows(): void {
    this.observeGc();
    this.eld.enable();
    this.elu = performance.eventLoopUtilization();
    this.windowStart = this.lastChange = now();
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

  /** Returns the counter `name`, creating it at 0. */
  counter(name: string): Counter {
    let c = this.counters.get(name);
    if (!c) {
      c = { window: 0, total: 0 };
      this.counters.set(name, c);
    }
    const cell = c;
    return {
      name,
      inc(by = 1) {
        if (Number.isFinite(by) && by > 0) {
          cell.window += by;
          cell.total += by;
        }
      },
    };
  }

  /** Notes that the app warmed up at some point of the current window. */
  markWarming(): void {
    this.warmingInWindow = true;
  }

  /** The report for the window that ends now; starts the next window. */
  take(): LoadReport {
    const at = now();
    const wallNow = Date.now();
    this.area += this.inflight * (at - this.lastChange);
    this.lastChange = at;
    const windowMs = Math.max(at - this.windowStart, 1e-3);
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
    const counters: Record<string, number> = {};
    for (const [name, c] of this.counters) {
      counters[name] = c.window;
      this.totals.counters[name] = c.total;
      c.window = 0;
    }
    const warming = this.warmingInWindow || this.warmingUp();
    this.warmingInWindow = false;
    const gcPauseMs = this.gcMs;
    this.gcMs = 0;
    const t = this.totals;
    t.requestsCompleted += this.completed;
    t.errors += this.errors;
    t.latencySumMs += sumMs;
    for (let i = 0; i < counts.length; i++) t.latencyCounts[i] += counts[i] as number;
    t.gcPauseMs += gcPauseMs;
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
      gcPauseMs,
      warmingUp: warming,
      counters,
    };
    this.last = report;
    this.eld.reset();
    this.windowStart = at;
    this.windowStartWall = wallNow;
    this.area = 0;
    this.inflightMax = this.inflight;
    this.completed = 0;
    this.errors = 0;
    return report;
  }

  /**
   * Sums GC pauses from "gc" performance entries. Not v8's GCProfiler: it writes the whole heap's
   * statistics as JSON before and after every collection, which counted with callgrind cost ~7,000
   * instructions per request on a hello-world server (1–2 µs natively), several times the scavenges
   * themselves; an entry per collection costs a small object and one batched callback.
   */
  private observeGc(): void {
    if (this.gcObserver) return;
    this.gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) this.gcMs += e.duration;
    });
    this.gcObserver.observe({ entryTypes: ["gc"] });
  }

  close(): void {
    this.eld.disable();
    this.gcObserver?.disconnect();
    this.gcObserver = undefined;
  }
}

function eldMs(ns: number): number {
  // An empty histogram (a loop blocked for the whole window) reads NaN or a huge sentinel; report 0.
  if (!Number.isFinite(ns) || ns <= 0 || ns > Number.MAX_SAFE_INTEGER) return 0;
  return Math.max(ns / NS_PER_MS - ELD_RESOLUTION_MS, 0);
}
