import { performance } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { now } from "./clock.js";

describe("clock", () => {
  it("reads performance.now()'s timebase to within a few microseconds and never goes back", () => {
    let worst = 0;
    let prev = now();
    for (let i = 0; i < 100_000; i++) {
      const t = now();
      expect(t).toBeGreaterThanOrEqual(prev);
      prev = t;
      if (i % 1000 === 0) {
        const a = performance.now();
        const b = now();
        const c = performance.now();
        // b lies between a and c when the two clocks agree; allow the offset's own uncertainty.
        worst = Math.max(worst, a - b, b - c);
      }
    }
    expect(worst).toBeLessThan(0.01); // 10 µs
  });
});
