import type { PodRegistry } from "../ingest/pod-registry.js";
import { signalValue } from "./signals.js";

/** A signal summed over a workload's pods that report it freshly. */
export interface WorkloadSignal {
  total: number;
  /** Pods whose fresh report carries the signal. */
  pods: number;
}

/** Where per-workload signals come from (the agents' pushed reports). */
export interface WorkloadSignals {
  /** Undefined when no pod of the workload reports the signal: missing, never zero. */
  read(
    namespace: string,
    kind: string,
    name: string,
    signal: string,
    now: number,
  ): WorkloadSignal | undefined;
}

/**
 * Per-workload signals from the PodRegistry: the pods whose agents name (or whose ownerReferences
 * resolved to) the workload, each counted once with its fresh report.
 */
export function registrySignals(registry: PodRegistry): WorkloadSignals {
  return {
    read(namespace, kind, name, signal, now) {
      let total = 0;
      let pods = 0;
      for (const record of registry.list()) {
        const id = record.identity;
        if (id.namespace !== namespace || id.workload?.name !== name || id.workload.kind !== kind) continue;
        const report = registry.freshReport(record, now);
        const v = report && signalValue(report, signal);
        if (v === undefined || !Number.isFinite(v)) continue;
        total += v;
        pods++;
      }
      return pods > 0 ? { total, pods } : undefined;
    },
  };
}
