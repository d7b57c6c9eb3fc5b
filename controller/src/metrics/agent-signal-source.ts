import type { PodRecord, PodRegistry } from "../ingest/pod-registry.js";
import type { MetricSpec, MetricValues } from "../scaling/types.js";
import { signalValue } from "./signals.js";

/** The scaling core works in milli-units, as Kubernetes quantities do. */
const MILLI = 1000;

/**
 * Metric values for the scaling core from the agents' pushed reports. Signal and Pods metrics read the
 * named signal per pod; Resource cpu/memory read the pod's usage. A pod without a fresh report, or
 * whose apps are all warming up, gets no sample, so the core counts it as missing (never as idle).
 */
export function agentMetricValues(
  specs: readonly MetricSpec[],
  pods: readonly PodRecord[],
  registry: PodRegistry,
  now: number,
): MetricValues[] {
  return specs.map((spec) => {
    let signal: string | undefined;
    switch (spec.type) {
      case "Signal":
        signal = spec.signal.name;
        break;
      case "Pods":
        signal = spec.pods.metric.name;
        break;
      case "Resource":
        if (spec.resource.name === "cpu") signal = "cpu_cores";
        else if (spec.resource.name === "memory") signal = "memory_bytes";
        break;
      default:
        return { error: `no source for ${spec.type} metrics from agents` };
    }
    if (signal === undefined) return { error: `no source for this metric from agents` };
    const podSamples: NonNullable<MetricValues["podSamples"]> = new Map();
    for (const pod of pods) {
      const report = registry.freshReport(pod, now);
      if (!report) continue;
      // A pod whose apps all say they are warming up (start-up, JIT, caches) gives no sample: its load
      // says little about steady demand, and the core treats a missing sample conservatively.
      if (report.apps.length > 0 && report.apps.every((a) => a.load?.warmingUp)) continue;
      const v = signalValue(report, signal);
      if (v === undefined || !Number.isFinite(v)) continue;
      podSamples.set(pod.identity.podName, {
        value: Math.round(v * MILLI),
        timestamp: (report.at as Date).getTime(),
        window: pod.reportIntervalMs,
      });
    }
    return { podSamples };
  });
}
