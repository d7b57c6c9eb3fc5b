import type { RecommendationStage } from "./types.js";

/**
 * Temporary instructions set through the replica-control API: an exact count, a floor or a ceiling
 * (each with a replica count), or a freeze of one direction. Each expires on its own.
 */
export type OverrideKind = "exact" | "floor" | "ceiling" | "freeze-up" | "freeze-down";

export const OVERRIDE_KINDS: readonly OverrideKind[] = [
  "exact",
  "floor",
  "ceiling",
  "freeze-up",
  "freeze-down",
];

export interface Override {
  id: string;
  kind: OverrideKind;
  /** For exact, floor and ceiling. */
  replicas?: number;
  /** Epoch ms; the override is gone from this moment on. */
  expiresAt: number;
  reason: string;
  /** Who set it (the authenticated user name). */
  setBy: string;
  setAt: number;
}

export function activeOverrides(overrides: readonly Override[], now: number): Override[] {
  return overrides.filter((o) => o.expiresAt > now);
}

function describe(o: Override): string {
  return `override ${o.kind}${o.replicas !== undefined ? ` ${o.replicas}` : ""} by ${o.setBy} until ${new Date(o.expiresAt).toISOString()}: ${o.reason}`;
}

/**
 * The overrides as a pipeline stage, after the metrics and before behavior (so rate policies and the
 * policy's bounds still apply). Composition, in this order: an exact count replaces the proposal; then
 * floors raise it (the highest floor wins) and ceilings lower it (the lowest ceiling wins; a ceiling
 * below a floor wins, being the safer instruction for capacity the caller pays for); then freezes keep
 * it from moving past the current size in the frozen direction.
 */
export function overrideStage(overrides: readonly Override[]): RecommendationStage {
  return {
    name: "override",
    apply(replicas, input, now) {
      const live = activeOverrides(overrides, now);
      const current = input.scale.specReplicas;
      let r = replicas;
      const why: string[] = [];
      const step = (next: number, o: Override) => {
        if (next !== r) why.push(describe(o));
        r = next;
      };
      for (const o of live) if (o.kind === "exact" && o.replicas !== undefined) step(o.replicas, o);
      const floors = live.filter((o) => o.kind === "floor" && o.replicas !== undefined);
      const ceilings = live.filter((o) => o.kind === "ceiling" && o.replicas !== undefined);
      const floor = floors.sort((a, b) => (b.replicas as number) - (a.replicas as number))[0];
      const ceiling = ceilings.sort((a, b) => (a.replicas as number) - (b.replicas as number))[0];
      if (floor && r < (floor.replicas as number)) step(floor.replicas as number, floor);
      if (ceiling && r > (ceiling.replicas as number)) step(ceiling.replicas as number, ceiling);
      for (const o of live) {
        if (o.kind === "freeze-up" && r > current) step(current, o);
        if (o.kind === "freeze-down" && r < current) step(current, o);
      }
      return { replicas: r, reason: why.join("; ") };
    },
  };
}
