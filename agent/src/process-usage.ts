import { readFileSync } from "node:fs";

/** Clock ticks per second for /proc/<pid>/stat times; 100 on every Linux architecture Node supports. */
const CLOCK_TICKS = 100;
const PAGE_SIZE = 4096;

/** CPU seconds and resident memory of one process from /proc, or undefined once it is gone. */
export function readProcessUsage(
  pid: number,
  proc = "/proc",
): { cpuSeconds: number; rssBytes: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`${proc}/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: split after its last ")".
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const rssPages = Number(rest[21]);
  if (![utime, stime, rssPages].every(Number.isFinite)) return undefined;
  return { cpuSeconds: (utime + stime) / CLOCK_TICKS, rssBytes: rssPages * PAGE_SIZE };
}
