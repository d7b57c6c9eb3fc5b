/**
 * The record of past rescales that rate policies count against (H `storeScaleEvent`,
 * `getReplicasChangePerPeriod`, `markScaleEventsOutdated`). Kept only when the policy has `behavior`.
 */
import type { ScaleEvent } from "./types.js";

/** Replicas changed by events younger than the period (age < period, strict). */
export function replicasChangeInPeriod(
  events: readonly ScaleEvent[],
  periodSeconds: number,
  now: number,
): number {
  const cutoff = now - periodSeconds * 1000;
  let sum = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as ScaleEvent;
    if (e.at > cutoff) sum += e.replicaChange;
  }
  return sum;
}

export function longestPeriodSeconds(policies: readonly { periodSeconds: number }[]): number {
  let longest = 0;
  for (const p of policies) if (p.periodSeconds > longest) longest = p.periodSeconds;
  return longest;
}

/**
 * A copy of `events` with a new event of `replicaChange` at `now`. Events older than the longest policy
 * period (age > period) are marked outdated first; the last outdated slot is reused, else it is appended.
 */
export function storeScaleEvent(
  events: readonly ScaleEvent[],
  replicaChange: number,
  longestPeriod: number,
  now: number,
): ScaleEvent[] {
  const cutoff = now - longestPeriod * 1000;
  const next = new Array<ScaleEvent>(events.length);
  let reuse = -1;
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as ScaleEvent;
    const outdated = e.outdated || e.at < cutoff;
    next[i] = outdated === e.outdated ? e : { replicaChange: e.replicaChange, at: e.at, outdated };
    if (outdated) reuse = i;
  }
  const event: ScaleEvent = { replicaChange, at: now, outdated: false };
  if (reuse >= 0) next[reuse] = event;
  else next.push(event);
  return next;
}
