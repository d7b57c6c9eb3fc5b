import type { LoadReport } from "@ballast/proto";
import { validateLoadReport } from "@ballast/proto";
import { describe, expect, it } from "vitest";
import { mergeLoadReports } from "./load-merge.js";

function window(startMs: number, ms: number, over: Partial<LoadReport>): LoadReport {
  return {
    windowStart: new Date(startMs),
    windowEnd: new Date(startMs + ms),
    inflightNow: 0,
    inflightAvg: 0,
    inflightMax: 0,
    requestsCompleted: 0,
    errors: 0,
    latency: { boundsMs: [10, 100], counts: [0, 0, 0], sumMs: 0 },
    eventLoop: { delayP50Ms: 1, delayP99Ms: 2, delayMaxMs: 3, delayMeanMs: 1, utilization: 0 },
    heap: { usedBytes: 1, limitBytes: 10 },
    gauges: {},
    gcPauseMs: 0,
    warmingUp: false,
    counters: {},
    ...over,
  };
}

describe("mergeLoadReports", () => {
  it("adds counts, weights the in-flight mean by window length and keeps the newest gauges", () => {
    const a = window(0, 300, {
      inflightAvg: 4,
      inflightMax: 6,
      requestsCompleted: 3,
      errors: 1,
      latency: { boundsMs: [10, 100], counts: [1, 2, 0], sumMs: 60 },
      gauges: { queue_backlog: 9 },
      eventLoop: { delayP50Ms: 1, delayP99Ms: 30, delayMaxMs: 40, delayMeanMs: 2, utilization: 1 },
    });
    const b = window(300, 100, {
      inflightNow: 2,
      inflightAvg: 0,
      inflightMax: 2,
      requestsCompleted: 2,
      latency: { boundsMs: [10, 100], counts: [0, 1, 1], sumMs: 250 },
      gauges: { queue_backlog: 4 },
    });
    const m = mergeLoadReports([a, b]) as LoadReport;
    expect(() => validateLoadReport(m)).not.toThrow();
    expect(m.windowStart).toEqual(new Date(0));
    expect(m.windowEnd).toEqual(new Date(400));
    expect(m.inflightAvg).toBe(3); // (4×300 + 0×100) / 400
    expect(m.inflightMax).toBe(6);
    expect(m.inflightNow).toBe(2);
    expect(m.requestsCompleted).toBe(5);
    expect(m.errors).toBe(1);
    expect(m.latency).toEqual({ boundsMs: [10, 100], counts: [1, 3, 1], sumMs: 310 });
    expect(m.eventLoop?.utilization).toBe(0.75);
    expect(m.eventLoop?.delayP99Ms).toBe(30);
    expect(m.gauges).toEqual({ queue_backlog: 4 });
  });

  it("passes a single window through and gives nothing for none", () => {
    const a = window(0, 100, {});
    expect(mergeLoadReports([a])).toBe(a);
    expect(mergeLoadReports([])).toBeUndefined();
  });
});
