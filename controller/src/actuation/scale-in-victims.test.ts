import { describe, expect, it } from "vitest";
import { chooseVictims, type VictimCandidate, victimDeletionCost } from "./scale-in-victims.js";

const pod = (name: string, o: Partial<VictimCandidate> = {}): VictimCandidate => ({
  name,
  ready: true,
  inflight: 3,
  createdAt: 0,
  ...o,
});

describe("scale-in victims", () => {
  it("takes unready, then idle, then elastic capacity, then the least busy, then the newest", () => {
    const pods = [
      pod("busy-subscription", { inflight: 9, billing: "subscription" }),
      pod("busy-burst", { inflight: 9, billing: "burst" }),
      pod("idle", { inflight: 0 }),
      pod("unready", { ready: false, inflight: 5 }),
      pod("light-old", { inflight: 1, createdAt: 1 }),
      pod("light-new", { inflight: 1, createdAt: 2 }),
    ];
    expect(chooseVictims(pods, 6).map((p) => p.name)).toEqual([
      "unready",
      "idle",
      "busy-burst",
      "light-new",
      "light-old",
      "busy-subscription",
    ]);
  });

  it("never reads a pod without a report as idle", () => {
    const pods = [pod("silent", { inflight: undefined }), pod("working", { inflight: 4 })];
    expect(chooseVictims(pods, 1).map((p) => p.name)).toEqual(["working"]);
  });

  it("orders deletion costs below the default so the first victim goes first", () => {
    expect(victimDeletionCost(0)).toBeLessThan(victimDeletionCost(1));
    expect(victimDeletionCost(5)).toBeLessThan(0);
    expect(chooseVictims([pod("a")], 0)).toEqual([]);
  });
});
