import { describe, expect, it } from "vitest";
import { parseQuantity, QuantityError } from "./quantity.js";

describe("parseQuantity (to milli-units)", () => {
  it.each([
    ["500m", 500],
    ["4", 4000],
    ["1.5", 1500],
    [".5", 500],
    ["5.", 5000],
    ["+3", 3000],
    ["-3", -3000],
    ["0", 0],
    ["1k", 1_000_000],
    ["2M", 2_000_000_000],
    ["1G", 1e12],
    ["1T", 1e15],
    ["1Ki", 1_024_000],
    ["2Gi", 2 * 2 ** 30 * 1000],
    ["1.5Mi", 1.5 * 2 ** 20 * 1000],
    ["100Mi", 104_857_600_000],
    ["1e3", 1_000_000],
    ["1E3", 1_000_000],
    ["1e-3", 1],
    ["25e-1", 2500],
    ["123456789.123", 123_456_789_123],
    ["9007199254740", 9_007_199_254_740_000],
  ])("%s → %d", (q, milli) => {
    expect(parseQuantity(q)).toBe(milli);
  });

  it("reads the decimal suffix E (exa), not an exponent, when no digits follow", () => {
    expect(parseQuantity("1E")).toBe(1e21);
    expect(parseQuantity("1P")).toBe(1e18);
  });

  it("rounds a fraction of a milli-unit up, away from zero, as MilliValue does", () => {
    expect(parseQuantity("0.0001")).toBe(1);
    expect(parseQuantity("1.0001")).toBe(1001);
    expect(parseQuantity("-0.0001")).toBe(-1);
    expect(parseQuantity("1e-30")).toBe(1);
  });

  it("is exact for long integer mantissas within 2^53 milli-units", () => {
    expect(parseQuantity("1234567890123.456")).toBe(1_234_567_890_123_456);
    expect(parseQuantity("0.000000000000000000001k")).toBe(1);
  });

  it("reads numbers as whole units", () => {
    expect(parseQuantity(4)).toBe(4000);
    expect(parseQuantity(0.5)).toBe(500);
    expect(parseQuantity(0.0001)).toBe(1);
    expect(parseQuantity(-2)).toBe(-2000);
    expect(parseQuantity(0)).toBe(0);
  });

  it.each([
    [""],
    [" 5"],
    ["5 "],
    ["abc"],
    ["5x"],
    ["5KB"],
    ["5kb"],
    ["1.2.3"],
    ["1e"],
    ["1e1.5"],
    ["Gi"],
    ["--1"],
    [Number.NaN],
    [Number.POSITIVE_INFINITY],
    [null],
    [{}],
    [undefined],
  ])("refuses %j with a QuantityError naming it", (q) => {
    expect(() => parseQuantity(q as never)).toThrow(QuantityError);
    try {
      parseQuantity(q as never);
    } catch (e) {
      expect((e as Error).message).toContain("is not a quantity");
    }
  });

  it("refuses absurd exponents", () => {
    expect(() => parseQuantity("1e100000")).toThrow(/exponent out of range/);
    expect(() => parseQuantity("1e400")).toThrow(/too large/);
  });
});
