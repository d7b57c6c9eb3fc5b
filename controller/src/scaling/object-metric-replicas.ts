/**
 * Replica proposals from one value for the whole workload (RC `GetObjectMetricReplicas`,
 * `GetExternalMetricReplicas` and their per-pod variants). No pod is filled in here: only the count of
 * Running and Ready pods matters, and only for a Value target.
 */
import { ceilReplicas } from "./replica-count.js";
import { isWithinTolerance, type Tolerances } from "./tolerance.js";
import type { PodInfo } from "./types.js";

export interface ValueResult {
  replicas: number;
  /** The value compared (Value target) or the value per replica, rounded up (AverageValue target). */
  usage: number;
  ratio: number;
  error?: undefined;
}

/** Pods that are Running and Ready; pods being deleted are not excluded (as upstream). */
export function runningReadyPods(pods: readonly PodInfo[]): number {
  let n = 0;
  for (let i = 0; i < pods.length; i++) {
    const p = pods[i] as PodInfo;
    if (p.phase === "Running" && p.ready === true) n++;
  }
  return n;
}

/**
 * Value target: ratio = value ÷ target, applied to the ready pods. From zero replicas the tolerance is
 * skipped and the result is ceil(ratio), which is how Object and External metrics scale from and to zero.
 */
export function valueTargetReplicas(
  currentReplicas: number,
  value: number,
  target: number,
  pods: readonly PodInfo[],
  tolerances: Tolerances,
): ValueResult | { error: string } {
  const ratio = value / target;
  if (currentReplicas === 0) return { replicas: ceilReplicas(ratio), usage: value, ratio };
  if (isWithinTolerance(ratio, tolerances)) return { replicas: currentReplicas, usage: value, ratio };
  if (pods.length === 0) return { error: "no pods returned by selector while calculating replica count" };
  return { replicas: ceilReplicas(ratio * runningReadyPods(pods)), usage: value, ratio };
}

/**
 * AverageValue target: the value is shared by the replicas the scale status reports. Outside tolerance
 * the proposal is ceil(value ÷ per-pod target), independent of how many pods exist.
 */
export function averageValueTargetReplicas(
  statusReplicas: number,
  value: number,
  targetPerPod: number,
  tolerances: Tolerances,
): ValueResult {
  const ratio = value / (targetPerPod * statusReplicas);
  const replicas = isWithinTolerance(ratio, tolerances) ? statusReplicas : ceilReplicas(value / targetPerPod);
  // Upstream divides by zero here when the status has no replicas; report the whole value instead.
  const usage = statusReplicas > 0 ? Math.ceil(value / statusReplicas) : value;
  return { replicas, usage, ratio };
}
