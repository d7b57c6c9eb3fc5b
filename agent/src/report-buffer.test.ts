import { describe, expect, it } from "vitest";
import { DropOldestBuffer } from "./report-buffer.js";

describe("DropOldestBuffer", () => {
  it("keeps the newest entries and counts what it dropped", () => {
    const b = new DropOldestBuffer<number>(3);
    for (let i = 1; i <= 5; i++) b.push(i);
    expect(b.length).toBe(3);
    expect(b.dropped).toBe(2);
    expect([b.shift(), b.shift(), b.shift(), b.shift()]).toEqual([3, 4, 5, undefined]);
  });

  it("refuses a non-positive capacity", () => {
    expect(() => new DropOldestBuffer(0)).toThrow(RangeError);
  });
});
