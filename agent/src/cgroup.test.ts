import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseProcCgroup, readCgroup } from "./cgroup.js";
import { UsageSampler } from "./usage-sampler.js";

const fixtures = join(import.meta.dirname, "..", "fixtures", "cgroup");
const read = (name: string) => readCgroup(join(fixtures, name), join(fixtures, name, "proc-self-cgroup"));

describe("cgroup readers", () => {
  it("reads cgroup v2 inside a container (namespace root)", () => {
    expect(read("v2-container")).toEqual({
      available: true,
      reading: {
        version: 2,
        cpuSeconds: 2.5,
        memoryBytes: 104857600,
        cpuLimitCores: 0.5,
        memoryLimitBytes: 268435456,
      },
    });
  });

  it("reads cgroup v2 from the process's own path on a host, with no limits", () => {
    expect(read("v2-host")).toEqual({
      available: true,
      reading: { version: 2, cpuSeconds: 7, memoryBytes: 5242880, cpuLimitCores: 0, memoryLimitBytes: 0 },
    });
  });

  it("reads cgroup v1 cpuacct and memory, treating the huge limit as unlimited", () => {
    expect(read("v1")).toEqual({
      available: true,
      reading: { version: 1, cpuSeconds: 3, memoryBytes: 52428800, cpuLimitCores: 2, memoryLimitBytes: 0 },
    });
  });

  it("reports unavailable, with a reason, where there is no cgroup", () => {
    const r = read("empty");
    expect(r.available).toBe(false);
    expect(r.available === false && r.reason).toMatch(/no cpuacct.usage|cpu.stat/);
    const missing = readCgroup(join(fixtures, "does-not-exist"), "/nonexistent");
    expect(missing).toEqual({ available: false, reason: expect.stringContaining("does not exist") });
  });

  it("parses /proc/self/cgroup for v1 controllers and the v2 hierarchy", () => {
    const m = parseProcCgroup("12:memory:/a\n11:cpu,cpuacct:/b\n0::/c\n");
    expect(m.get("memory")).toBe("/a");
    expect(m.get("cpu")).toBe("/b");
    expect(m.get("cpuacct")).toBe("/b");
    expect(m.get("")).toBe("/c");
  });
});

describe("UsageSampler", () => {
  it("turns cumulative CPU seconds into cores between samples", () => {
    let cpu = 10;
    const sampler = new UsageSampler("cgroup", () => ({
      available: true,
      reading: { version: 2, cpuSeconds: cpu, memoryBytes: 100, cpuLimitCores: 0, memoryLimitBytes: 0 },
    }));
    expect(sampler.sample(1000, []).cpuCores).toBe(0); // no interval yet
    cpu = 11.5;
    const u = sampler.sample(2000, []);
    expect(u.cpuCores).toBeCloseTo(1.5);
    expect(u).toMatchObject({ available: true, version: 2, memoryBytes: 100, source: "cgroup" });
  });

  it("sums the app processes from /proc in process mode", () => {
    const sampler = new UsageSampler("process");
    const u = sampler.sample(Date.now(), [process.pid]);
    expect(u.available).toBe(true);
    expect(u.memoryBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(sampler.sample(Date.now(), [999_999_999])).toMatchObject({ available: false });
  });
});
