import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Cumulative counters read from a cgroup at one moment. */
export interface CgroupReading {
  version: 1 | 2;
  /** CPU time used since the cgroup was created, in seconds. */
  cpuSeconds: number;
  memoryBytes: number;
  /** CPU limit in cores; 0 when unlimited. */
  cpuLimitCores: number;
  /** Memory limit in bytes; 0 when unlimited. */
  memoryLimitBytes: number;
}

export type CgroupResult = { available: true; reading: CgroupReading } | { available: false; reason: string };

// cgroup v1 reports "no limit" as a huge page-aligned number rather than a word.
const V1_UNLIMITED = 2 ** 62;

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function readNumber(path: string): number | undefined {
  const t = readText(path)?.trim();
  if (t === undefined || t === "" || !/^\d+$/.test(t)) return undefined;
  return Number(t);
}

/** Maps each v1 controller (and "" for the v2 unified hierarchy) to the process's cgroup path. */
export function parseProcCgroup(text: string): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, controllers, path] = m as unknown as [string, string, string];
    for (const c of controllers.split(",")) paths.set(c, path);
  }
  return paths;
}

function firstExisting(dirs: string[], file: string): string | undefined {
  return dirs.find((d) => existsSync(join(d, file)));
}

/** The process's own cgroup directory first, the hierarchy root (a container's namespace view) next. */
function candidates(mount: string, path: string | undefined): string[] {
  return path && path !== "/" ? [join(mount, path), mount] : [mount];
}

function readV2(root: string, path: string | undefined): CgroupResult {
  const dir = firstExisting(candidates(root, path), "cpu.stat");
  if (!dir) return { available: false, reason: `no cpu.stat under ${root}` };
  const usage = /^usage_usec (\d+)$/m.exec(readText(join(dir, "cpu.stat")) ?? "");
  const memory = readNumber(join(dir, "memory.current"));
  if (!usage || memory === undefined)
    return { available: false, reason: `cannot read cpu.stat/memory.current in ${dir}` };
  const [quota, period] = (readText(join(dir, "cpu.max")) ?? "max").trim().split(/\s+/);
  const cpuLimitCores = quota && quota !== "max" && period ? Number(quota) / Number(period) : 0;
  const memMax = (readText(join(dir, "memory.max")) ?? "max").trim();
  return {
    available: true,
    reading: {
      version: 2,
      cpuSeconds: Number(usage[1]) / 1e6,
      memoryBytes: memory,
      cpuLimitCores: Number.isFinite(cpuLimitCores) ? cpuLimitCores : 0,
      memoryLimitBytes: /^\d+$/.test(memMax) ? Number(memMax) : 0,
    },
  };
}

function readV1(root: string, paths: Map<string, string>): CgroupResult {
  const cpuMounts = ["cpu,cpuacct", "cpuacct,cpu", "cpuacct"]
    .map((m) => join(root, m))
    .filter((m) => existsSync(m));
  const cpuDir = cpuMounts
    .flatMap((m) => candidates(m, paths.get("cpuacct")))
    .find((d) => existsSync(join(d, "cpuacct.usage")));
  const memDir = firstExisting(
    candidates(join(root, "memory"), paths.get("memory")),
    "memory.usage_in_bytes",
  );
  if (!cpuDir || !memDir)
    return { available: false, reason: `no cpuacct.usage or memory.usage_in_bytes under ${root}` };
  const usageNs = readNumber(join(cpuDir, "cpuacct.usage"));
  const memory = readNumber(join(memDir, "memory.usage_in_bytes"));
  if (usageNs === undefined || memory === undefined)
    return { available: false, reason: `unreadable cgroup v1 files` };
  // The CFS quota lives beside cpuacct.usage when cpu and cpuacct are co-mounted; -1 means unlimited.
  const quota = Number((readText(join(cpuDir, "cpu.cfs_quota_us")) ?? "-1").trim());
  const period = Number((readText(join(cpuDir, "cpu.cfs_period_us")) ?? "0").trim());
  const memLimit = readNumber(join(memDir, "memory.limit_in_bytes")) ?? 0;
  return {
    available: true,
    reading: {
      version: 1,
      cpuSeconds: usageNs / 1e9,
      memoryBytes: memory,
      cpuLimitCores: quota > 0 && period > 0 ? quota / period : 0,
      memoryLimitBytes: memLimit >= V1_UNLIMITED ? 0 : memLimit,
    },
  };
}

/**
 * Reads the cgroup of this process (v2 unified or v1 cpuacct+memory). `root` and `procCgroup` are
 * parameters so tests can point at fixture trees.
 */
export function readCgroup(root = "/sys/fs/cgroup", procCgroup = "/proc/self/cgroup"): CgroupResult {
  if (!existsSync(root)) return { available: false, reason: `${root} does not exist` };
  const paths = parseProcCgroup(readText(procCgroup) ?? "");
  if (existsSync(join(root, "cgroup.controllers"))) return readV2(root, paths.get(""));
  return readV1(root, paths);
}
