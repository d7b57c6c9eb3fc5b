import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff.js";

describe("Backoff", () => {
  it("grows exponentially up to the cap, with full jitter below each ceiling", () => {
    const draws: number[] = [];
    const b = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2, random: () => 0.999 });
    for (let i = 0; i < 6; i++) draws.push(b.nextDelayMs());
    expect(draws).toEqual([99, 199, 399, 799, 999, 999]);
    const low = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2, random: () => 0 });
    expect(low.nextDelayMs()).toBe(0);
  });

  it("starts over after reset", () => {
    const b = new Backoff({ initialMs: 50, maxMs: 5000, factor: 3, random: () => 0.5 });
    b.nextDelayMs();
    b.nextDelayMs();
    expect(b.ceilingMs()).toBe(450);
    b.reset();
    expect(b.ceilingMs()).toBe(50);
  });

  it("spreads the delays of many clients (jitter is real)", () => {
    const delays = Array.from({ length: 200 }, () =>
      new Backoff({ initialMs: 1000, maxMs: 1000, factor: 2 }).nextDelayMs(),
    );
    expect(new Set(delays).size).toBeGreaterThan(100);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(1000);
  });

  it("refuses nonsense options", () => {
    expect(() => new Backoff({ initialMs: 0, maxMs: 10, factor: 2 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 10, maxMs: 5, factor: 2 })).toThrow(RangeError);
  });
});
