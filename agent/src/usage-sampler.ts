import type { CgroupUsage } from "@ballast/proto";
import { type CgroupResult, readCgroup } from "./cgroup.js";
import { readProcessUsage } from "./process-usage.js";

export type UsageSource = "cgroup" | "process" | "none";

/**
 * Turns cumulative CPU counters into cores used between two samples. "cgroup" reads the agent's cgroup
 * (the pod's, when the agent shares it); "process" sums the app processes from /proc, for local mode
 * and VMs where apps share a cgroup with other work.
 */
export class UsageSampler {
  private last: { at: number; cpuSeconds: number } | undefined;

  constructor(
    private readonly source: UsageSource,
    private readonly readCgroupFn: () => CgroupResult = () => readCgroup(),
  ) {}

  sample(nowMs: number, appPids: readonly number[]): CgroupUsage {
    const empty: CgroupUsage = {
      available: false,
      unavailableReason: "",
      version: 0,
      cpuCores: 0,
      memoryBytes: 0,
      cpuLimitCores: 0,
      memoryLimitBytes: 0,
      source: this.source,
    };
    let cpuSeconds: number;
    let usage: CgroupUsage;
    if (this.source === "none") return { ...empty, unavailableReason: "usage collection is off" };
    if (this.source === "cgroup") {
      const r = this.readCgroupFn();
      if (!r.available) return { ...empty, unavailableReason: r.reason };
      cpuSeconds = r.reading.cpuSeconds;
      usage = {
        ...empty,
        available: true,
        version: r.reading.version,
        memoryBytes: r.reading.memoryBytes,
        cpuLimitCores: r.reading.cpuLimitCores,
        memoryLimitBytes: r.reading.memoryLimitBytes,
      };
    } else {
      const readings = appPids.map((pid) => readProcessUsage(pid)).filter((u) => u !== undefined);
      if (readings.length === 0) return { ...empty, unavailableReason: "no app process to read" };
      cpuSeconds = readings.reduce((s, u) => s + u.cpuSeconds, 0);
      usage = { ...empty, available: true, memoryBytes: readings.reduce((s, u) => s + u.rssBytes, 0) };
    }
    const prev = this.last;
    this.last = { at: nowMs, cpuSeconds };
    // The first sample has no interval to divide by; a counter that went back (an app restarted) neither.
    if (!prev || nowMs <= prev.at || cpuSeconds < prev.cpuSeconds) return usage;
    return { ...usage, cpuCores: (cpuSeconds - prev.cpuSeconds) / ((nowMs - prev.at) / 1000) };
  }
}
