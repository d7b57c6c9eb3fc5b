/** Replica counts are int32 upstream; a huge ratio saturates instead of wrapping. */
export const MAX_REPLICAS = 2147483647;

/** ceil(x), saturated to [0, MaxInt32]; NaN reads as 0. */
export function ceilReplicas(x: number): number {
  const c = Math.ceil(x);
  if (!(c > 0)) return 0;
  return Math.min(c, MAX_REPLICAS);
}
