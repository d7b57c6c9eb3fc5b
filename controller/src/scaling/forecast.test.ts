import { describe, expect, it } from "vitest";
import { prng } from "../../../test/support/prng.js";
import { DemandForecaster } from "./forecast.js";

const MIN = 60_000;
const DAY = 1440 * MIN;
/** A Monday, so day-of-week effects land on the weekend. */
const T0 = Date.UTC(2026, 0, 5);

/** A known series: a daily wave, a weekly one lowest on Saturday noon, a slow upward trend (req/s). */
function seasonal(at: number): number {
  const days = (at - T0) / DAY;
  const weekly = -200 * Math.cos((2 * Math.PI * (days - 5.5)) / 7);
  return 1000 + 600 * Math.sin(2 * Math.PI * (days - 0.3)) + weekly + 5 * days;
}

function feed(f: DemandForecaster, from: number, to: number, value: (at: number) => number, stepMs = 15_000) {
  for (let at = from; at < to; at += stepMs) f.observe(value(at), at);
}

function truePeak(from: number, horizonMs: number): number {
  let peak = 0;
  for (let at = from; at <= from + horizonMs; at += 1000) peak = Math.max(peak, seasonal(at));
  return peak;
}

describe("DemandForecaster", () => {
  const settings = { bucketSeconds: 300, horizonSeconds: 600, weekly: true };

  it("learns a daily and weekly cycle with a trend: small backtest error and a peak near the truth", () => {
    const random = prng(1);
    const f = new DemandForecaster(settings);
    feed(f, T0, T0 + 21 * DAY, (at) => seasonal(at) * (1 + 0.04 * (random() - 0.5)));
    // Check at several times of day, including a weekend rise and fall.
    let fed = T0 + 21 * DAY;
    for (const offset of [0, 3, 7.5, 12, 17, 21.25].map((h) => h * 3600_000)) {
      const now = T0 + 21 * DAY + offset;
      feed(f, fed, now, seasonal);
      fed = now;
      const o = f.outlook(now);
      expect(o.unavailable).toBeUndefined();
      expect(o.peak).toBeDefined();
      const truth = truePeak(now, 600_000);
      expect(Math.abs((o.peak as number) - truth) / truth).toBeLessThan(0.05);
    }
    const o = f.outlook(T0 + 21 * DAY + 21.25 * 3600_000);
    expect(o.backtested).toBeGreaterThan(200);
    expect(o.mape).toBeLessThan(5);
  });

  it("says it is learning before a day of buckets, and forecasts after", () => {
    const f = new DemandForecaster(settings);
    feed(f, T0, T0 + 12 * 3600_000, seasonal);
    expect(f.outlook(T0 + 12 * 3600_000).unavailable).toMatch(/^learning: \d+ of 216 buckets/);
    feed(f, T0 + 12 * 3600_000, T0 + DAY + 10 * MIN, seasonal);
    expect(f.outlook(T0 + DAY + 10 * MIN).peak).toBeGreaterThan(0);
  });

  it("has no forecast when demand stops arriving, and recovers when it returns", () => {
    const f = new DemandForecaster(settings);
    feed(f, T0, T0 + 3 * DAY, seasonal);
    expect(f.outlook(T0 + 3 * DAY).peak).toBeDefined();
    const later = T0 + 3 * DAY + 2 * 3600_000;
    expect(f.outlook(later).unavailable).toMatch(/no demand seen for \d+ min/);
    feed(f, later, later + 15 * MIN, seasonal);
    const o = f.outlook(later + 15 * MIN);
    expect(o.unavailable).toBeUndefined();
    const truth = truePeak(later + 15 * MIN, 600_000);
    expect(Math.abs((o.peak as number) - truth) / truth).toBeLessThan(0.15);
  });

  it("reports a large error on demand without a pattern", () => {
    const random = prng(7);
    const f = new DemandForecaster(settings);
    // Each 5-minute bucket jumps at random between 100 and 2,000.
    let level = 1000;
    let bucket = -1;
    feed(f, T0, T0 + 4 * DAY, (at) => {
      const b = Math.floor(at / (5 * MIN));
      if (b !== bucket) {
        bucket = b;
        level = 100 + 1900 * random();
      }
      return level;
    });
    expect(f.outlook(T0 + 4 * DAY).mape).toBeGreaterThan(50);
  });

  it("follows a sudden lasting rise within a few buckets (trend and error terms)", () => {
    const f = new DemandForecaster(settings);
    const flat = () => 500;
    feed(f, T0, T0 + 3 * DAY, flat);
    const jump = T0 + 3 * DAY;
    feed(f, jump, jump + 20 * MIN, () => 1500);
    const o = f.outlook(jump + 20 * MIN);
    expect(o.peak).toBeGreaterThan(1200);
  });

  it("ignores garbage and late samples", () => {
    const f = new DemandForecaster(settings);
    feed(f, T0, T0 + 2 * DAY, () => 800);
    f.observe(Number.NaN, T0 + 2 * DAY);
    f.observe(-5, T0 + 2 * DAY);
    f.observe(1e9, T0); // a sample for a bucket long closed
    feed(f, T0 + 2 * DAY, T0 + 2 * DAY + 10 * MIN, () => 800);
    const o = f.outlook(T0 + 2 * DAY + 10 * MIN);
    expect(o.peak).toBeCloseTo(800, 0);
    expect(o.mape).toBeLessThan(1);
  });

  it("warms from a history series and is usable at once", () => {
    const f = new DemandForecaster(settings);
    const t: number[] = [];
    const v: number[] = [];
    for (let at = T0; at < T0 + 14 * DAY; at += MIN) {
      t.push(at);
      v.push(seasonal(at));
    }
    f.warm(t, v);
    const now = T0 + 14 * DAY;
    const o = f.outlook(now);
    expect(o.observedBuckets).toBeGreaterThan(4000);
    expect(o.mape).toBeLessThan(5);
    const truth = truePeak(now, 600_000);
    expect(Math.abs((o.peak as number) - truth) / truth).toBeLessThan(0.05);
  });
});
