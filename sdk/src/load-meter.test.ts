import { validateLoadReport } from "@ballast/proto";
import { describe, expect, it } from "vitest";
import { LatencyHistogram } from "./latency-histogram.js";
import { LoadMeter } from "./load-meter.js";

describe("LatencyHistogram", () => {
  it("puts each latency in the first bucket whose bound is not below it", () => {
    const h = new LatencyHistogram([10, 100]);
    for (const ms of [0.5, 10, 10.01, 99, 5000]) h.record(ms);
    const { counts, sumMs } = h.take();
    expect(counts).toEqual([2, 2, 1]);
    expect(sumMs).toBeCloseTo(5119.51);
    expect(h.take().counts).toEqual([0, 0, 0]);
  });
});

describe("LoadMeter", () => {
  it("reports in-flight (time-weighted), completions, errors and latency per window", async () => {
    const m = new LoadMeter();
    m.startWindows();
    const a = m.begin();
    const b = m.begin();
    await new Promise((r) => setTimeout(r, 40));
    m.end(a, false);
    await new Promise((r) => setTimeout(r, 40));
    m.end(b, true);
    await new Promise((r) => setTimeout(r, 40));
    const r = m.take();
    expect(() => validateLoadReport(r)).not.toThrow();
    expect(r.requestsCompleted).toBe(2);
    expect(r.errors).toBe(1);
    expect(r.inflightMax).toBe(2);
    expect(r.inflightNow).toBe(0);
    // 2 in flight for ~40 ms, 1 for ~40 ms, 0 for ~40 ms: a mean near 1 over ~120 ms.
    expect(r.inflightAvg).toBeGreaterThan(0.6);
    expect(r.inflightAvg).toBeLessThan(1.4);
    expect(r.latency?.counts.reduce((s, c) => s + c, 0)).toBe(2);
    expect(r.eventLoop?.utilization).toBeGreaterThanOrEqual(0);
    expect(r.heap?.usedBytes).toBeGreaterThan(0);
    const next = m.take();
    expect(next.requestsCompleted).toBe(0);
    expect(next.inflightMax).toBe(0);
    m.close();
  });

  it("samples gauges, leaving out ones that throw or return garbage", () => {
    const m = new LoadMeter();
    m.gauge("queue_backlog", () => 12);
    m.gauge("broken", () => {
      throw new Error("boom");
    });
    m.gauge("nan", () => Number.NaN);
    m.gauge("negative", () => -3);
    expect(m.take().gauges).toEqual({ queue_backlog: 12 });
    m.close();
  });

  it("sees a blocked event loop as high utilization and delay", async () => {
    const m = new LoadMeter();
    m.startWindows();
    await new Promise((r) => setTimeout(r, 30));
    for (let i = 0; i < 5; i++) {
      const until = performance.now() + 40;
      while (performance.now() < until) {
        // busy: the loop cannot turn
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    const r = m.take();
    expect(r.eventLoop?.utilization).toBeGreaterThan(0.5);
    expect(r.eventLoop?.delayMaxMs).toBeGreaterThan(20);
    m.close();
  });
});
