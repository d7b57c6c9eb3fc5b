/**
 * How one pod counts toward a per-pod metric (RC `groupPods`): ignored, unready, missing, or ready.
 * Ignored and unready pods' samples are dropped; missing pods may be filled in later by the calculator.
 */
import type { PodInfo, PodSample } from "./types.js";

export const READY = 0;
export const UNREADY = 1;
export const MISSING = 2;
export const IGNORED = 3;
export type PodGroup = typeof READY | typeof UNREADY | typeof MISSING | typeof IGNORED;

/** Timing rules for cpu samples, in ms. */
export interface ReadinessTiming {
  cpuInitializationPeriodMs: number;
  delayOfInitialReadinessStatusMs: number;
}

/** Deleted and failed pods take no part at all, not even as missing. */
export function isIgnoredPod(pod: PodInfo): boolean {
  return pod.deleting === true || pod.phase === "Failed";
}

/**
 * The group of `pod` given its sample (undefined = no sample). `cpu` turns on the readiness rules that
 * upstream applies to the cpu resource only: a pod's cpu is untrustworthy while it is starting.
 */
export function groupPod(
  pod: PodInfo,
  sample: PodSample | undefined,
  cpu: boolean,
  now: number,
  timing: ReadinessTiming,
): PodGroup {
  if (isIgnoredPod(pod)) return IGNORED;
  // Pending is decided before the sample is looked at: a pending pod is unready, never missing.
  if (pod.phase === "Pending") return UNREADY;
  if (sample === undefined) return MISSING;
  if (!cpu) return READY;
  const ready = pod.ready;
  const start = pod.startTime;
  if (ready === null || ready === undefined || start === undefined || start === null) return UNREADY;
  const transition = pod.readyTransitionTime ?? Number.NEGATIVE_INFINITY;
  if (start + timing.cpuInitializationPeriodMs > now) {
    // Still initializing: trust only a ready pod whose sample covers a full window since it turned ready.
    return ready === false || sample.timestamp < transition + sample.window ? UNREADY : READY;
  }
  // Past initialization: only a pod that has never become ready is unready.
  return ready === false && start + timing.delayOfInitialReadinessStatusMs > transition ? UNREADY : READY;
}
