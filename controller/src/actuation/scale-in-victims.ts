/** A replica that could be removed, as the victim ranking sees it. */
export interface VictimCandidate {
  name: string;
  ready: boolean;
  /** Requests in flight as its agent last reported; undefined when no fresh report (never read as idle). */
  inflight: number | undefined;
  /** Billing of its node: pods on pay-as-you-go or burst capacity go before those on subscriptions. */
  billing?: string;
  /** Creation time (ms): among equals, the newest goes first. */
  createdAt: number;
}

/** Node label that names how a node is paid for: subscription, pay-as-you-go or burst. */
export const BILLING_LABEL = "node.ballast.dev/billing";

const elastic = (b: string | undefined) => b === "pay-as-you-go" || b === "burst";

/**
 * Which replicas to remove: unready ones first (they serve nothing), then idle ones (no request in
 * flight), then those on elastic capacity, then the least busy, then the newest. A replica without a
 * fresh report ranks as busy, so missing data never makes a pod look idle.
 */
export function chooseVictims(candidates: readonly VictimCandidate[], count: number): VictimCandidate[] {
  const idle = (c: VictimCandidate) => c.inflight === 0;
  return [...candidates]
    .sort(
      (a, b) =>
        Number(a.ready) - Number(b.ready) ||
        Number(idle(b)) - Number(idle(a)) ||
        Number(elastic(b.billing)) - Number(elastic(a.billing)) ||
        (a.inflight ?? Number.POSITIVE_INFINITY) - (b.inflight ?? Number.POSITIVE_INFINITY) ||
        b.createdAt - a.createdAt,
    )
    .slice(0, Math.max(0, count));
}

/**
 * The pod-deletion-cost of the i-th victim: below every unannotated pod (cost 0), the first victim
 * lowest, so the ReplicaSet controller removes exactly these pods, in this order.
 */
export function victimDeletionCost(index: number): number {
  return -1000 + index;
}
