import { DrainState, type LoadReport, type PodReport } from "@ballast/proto";
import { describe, expect, it } from "vitest";
import { PodRegistry } from "../ingest/pod-registry.js";
import { agentMetricValues } from "./agent-signal-source.js";
import { histogramQuantile, signalValue } from "./signals.js";

function load(over: Partial<LoadReport> = {}): LoadReport {
  return {
    windowStart: new Date(0),
    windowEnd: new Date(500),
    inflightNow: 3,
    inflightAvg: 2.5,
    inflightMax: 4,
    requestsCompleted: 50,
    errors: 5,
    latency: { boundsMs: [10, 100, 1000], counts: [20, 20, 10, 0], sumMs: 6000 },
    eventLoop: { delayP50Ms: 1, delayP99Ms: 12, delayMaxMs: 20, delayMeanMs: 2, utilization: 0.3 },
    heap: { usedBytes: 50, limitBytes: 200 },
    gauges: { queue_backlog: 7 },
    gcPauseMs: 0,
    warmingUp: false,
    counters: {},
    ...over,
  };
}

function pod(loads: (LoadReport | undefined)[], cgroup?: PodReport["cgroup"]): PodReport {
  return {
    seq: 1,
    at: new Date(1000),
    droppedReports: 0,
    cgroup,
    apps: loads.map((l, i) => ({
      serviceName: "web",
      pid: i + 1,
      ready: true,
      drain: DrainState.DRAIN_STATE_SERVING,
      load: l,
    })),
  };
}

describe("signalValue", () => {
  it("sums per-app load signals over the pod's apps", () => {
    const r = pod([load(), load({ inflightAvg: 1.5, requestsCompleted: 10, latency: undefined, errors: 0 })]);
    expect(signalValue(r, "inflight")).toBe(4);
    expect(signalValue(r, "rps")).toBe(120); // (50 + 10) per 0.5 s
    expect(signalValue(r, "error_ratio")).toBeCloseTo(5 / 60);
    expect(signalValue(r, "queue_backlog")).toBe(14);
  });

  it("takes the worst app for event-loop and heap signals", () => {
    const r = pod([
      load(),
      load({
        eventLoop: { delayP50Ms: 1, delayP99Ms: 40, delayMaxMs: 50, delayMeanMs: 3, utilization: 0.9 },
      }),
    ]);
    expect(signalValue(r, "event_loop_utilization")).toBe(0.9);
    expect(signalValue(r, "event_loop_delay_p99_ms")).toBe(40);
    expect(signalValue(r, "heap_used_ratio")).toBe(0.25);
  });

  it("reads latency percentiles from the merged histogram", () => {
    const r = pod([load()]);
    expect(signalValue(r, "latency_p50_ms")).toBeCloseTo(32.5); // rank 25 falls 5/20 into (10, 100]
    expect(signalValue(r, "latency_mean_ms")).toBe(120);
  });

  it("says missing, not zero, when the report does not carry the signal", () => {
    expect(signalValue(pod([]), "inflight")).toBeUndefined();
    expect(signalValue(pod([undefined]), "rps")).toBeUndefined();
    expect(signalValue(pod([load()]), "no_such_gauge")).toBeUndefined();
    expect(
      signalValue(
        pod([
          load({ requestsCompleted: 0, errors: 0, latency: { boundsMs: [10], counts: [0, 0], sumMs: 0 } }),
        ]),
        "latency_p95_ms",
      ),
    ).toBeUndefined();
    expect(signalValue(pod([load()]), "cpu_cores")).toBeUndefined();
    const usage = {
      available: true,
      unavailableReason: "",
      version: 2,
      cpuCores: 0.75,
      memoryBytes: 9,
      cpuLimitCores: 0,
      memoryLimitBytes: 0,
      source: "cgroup",
    };
    expect(signalValue(pod([load()], usage), "cpu_cores")).toBe(0.75);
  });
});

describe("histogramQuantile", () => {
  it("interpolates inside a bucket and stops at the last bound for the overflow bucket", () => {
    expect(histogramQuantile([10, 20], [0, 10, 0], 0.5)).toBe(15);
    expect(histogramQuantile([10, 20], [0, 0, 5], 0.99)).toBe(20);
    expect(histogramQuantile([10, 20], [0, 0, 0], 0.5)).toBeUndefined();
  });
});

describe("agentMetricValues", () => {
  it("gives no sample for a pod whose apps are all warming up", () => {
    const registry = new PodRegistry();
    const hello = (podName: string) => ({
      protocolVersion: 1,
      agentVersion: "t",
      reportIntervalMs: 1000,
      pod: { namespace: "ns", podName, uid: "", nodeName: "", containers: [], address: "" },
    });
    const warm = registry.connect(hello("warm"), 0, () => true);
    const steady = registry.connect(hello("steady"), 0, () => true);
    registry.addReport(warm, pod([load({ warmingUp: true })]), 1000);
    registry.addReport(steady, pod([load()]), 1000);
    const [values] = agentMetricValues(
      [{ type: "Signal", signal: { name: "inflight", target: { type: "AverageValue", averageValue: "3" } } }],
      [warm, steady],
      registry,
      1500,
    );
    expect([...(values?.podSamples?.keys() ?? [])]).toEqual(["steady"]);
  });
});
