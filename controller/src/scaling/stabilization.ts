/**
 * Stabilization over the log of recent recommendations (H `stabilizeRecommendation` without behavior,
 * `stabilizeRecommendationWithBehaviors` with it). The log is copied, never changed in place: one slot
 * that has aged out of every window is reused, otherwise the new recommendation is appended.
 */
import type { TimedRecommendation } from "./types.js";

export interface StabilizationResult {
  replicas: number;
  /** The log with this decision's (unstabilized) recommendation stored. */
  recommendations: TimedRecommendation[];
  /** ScaleDownStabilized / ScaleUpStabilized when the result differs from the input, else ReadyForNewScale. */
  reason: "ScaleDownStabilized" | "ScaleUpStabilized" | "ReadyForNewScale";
  /** The newest recommendation that set the bound that held the result; undefined when nothing held it. */
  heldBy: TimedRecommendation | undefined;
}

function store(
  log: readonly TimedRecommendation[],
  reuse: number,
  replicas: number,
  now: number,
): TimedRecommendation[] {
  const next = log.slice();
  const entry = { replicas, at: now };
  if (reuse >= 0) next[reuse] = entry;
  else next.push(entry);
  return next;
}

/**
 * Without behavior: scale-down only. The result is the largest recommendation younger than the window
 * (age ≤ window), or `desired` if larger.
 */
export function stabilizeWithoutBehavior(
  desired: number,
  log: readonly TimedRecommendation[],
  windowMs: number,
  now: number,
): StabilizationResult {
  const cutoff = now - windowMs;
  let max = desired;
  let heldBy: TimedRecommendation | undefined;
  let reuse = -1;
  for (let i = 0; i < log.length; i++) {
    const rec = log[i] as TimedRecommendation;
    if (rec.at < cutoff) reuse = i;
    else if (rec.replicas > max || (rec.replicas === max && heldBy !== undefined && rec.at >= heldBy.at)) {
      max = rec.replicas;
      heldBy = rec;
    }
  }
  return {
    replicas: max,
    recommendations: store(log, reuse, desired, now),
    reason: max !== desired ? "ScaleDownStabilized" : "ReadyForNewScale",
    heldBy: max !== desired ? heldBy : undefined,
  };
}

/**
 * With behavior: `up` is the smallest recommendation in the up window (age < window) and `down` the
 * largest in the down window, each including `desired`; the current size is moved into [up, down].
 * A rise therefore needs to have been the minimum for the whole up window, a fall the maximum for the
 * whole down window.
 */
export function stabilizeWithBehavior(
  current: number,
  desired: number,
  log: readonly TimedRecommendation[],
  upWindowMs: number,
  downWindowMs: number,
  now: number,
): StabilizationResult {
  const upCutoff = now - upWindowMs;
  const downCutoff = now - downWindowMs;
  let up = desired;
  let down = desired;
  let upBy: TimedRecommendation | undefined;
  let downBy: TimedRecommendation | undefined;
  let reuse = -1;
  for (let i = 0; i < log.length; i++) {
    const rec = log[i] as TimedRecommendation;
    if (
      rec.at > upCutoff &&
      (rec.replicas < up || (rec.replicas === up && upBy !== undefined && rec.at >= upBy.at))
    ) {
      up = rec.replicas;
      upBy = rec;
    }
    if (
      rec.at > downCutoff &&
      (rec.replicas > down || (rec.replicas === down && downBy !== undefined && rec.at >= downBy.at))
    ) {
      down = rec.replicas;
      downBy = rec;
    }
    if (rec.at < upCutoff && rec.at < downCutoff) reuse = i;
  }
  let replicas = current;
  if (replicas < up) replicas = up;
  if (replicas > down) replicas = down;
  const held = replicas !== desired;
  const rising = desired >= current;
  return {
    replicas,
    recommendations: store(log, reuse, desired, now),
    reason: !held ? "ReadyForNewScale" : rising ? "ScaleUpStabilized" : "ScaleDownStabilized",
    heldBy: !held ? undefined : rising ? upBy : downBy,
  };
}
