/** The dead band around a ratio of 1 inside which a metric proposes no change (RC `Tolerances.isWithin`). */

/** Fractions of the target, per direction; both default to the controller's --horizontal-pod-autoscaler-tolerance. */
export interface Tolerances {
  scaleUp: number;
  scaleDown: number;
}

/** Both ends are inclusive. A NaN ratio is never within. */
export function isWithinTolerance(ratio: number, t: Tolerances): boolean {
  return 1 - t.scaleDown <= ratio && ratio <= 1 + t.scaleUp;
}
