/**
 * Named traces: a `traces.json` beside the trace files says, per name, the file, its t0, a load scale,
 * the simulated window, known outages (simulated as gaps, not as zero demand) and where the history that
 * warms the forecast comes from (the trace itself before the window, or another trace).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type PerSecond, perSecond, readTrace, type Trace, TraceError } from "./trace.js";

export interface CatalogEntry {
  file: string;
  t0: string;
  description?: string;
  scale?: number;
  window?: { from: string; days?: number; seconds?: number };
  gaps?: [string, string][];
  history?: { trace: string; days: number };
}

export interface LoadedTrace {
  name: string;
  description: string;
  /** Epoch ms of the first simulated second. */
  start: number;
  load: PerSecond;
  scale: number;
  history?: { t: number[]; v: number[] };
}

/** The repository's trace directory (test/traces), found from this module's place in the build. */
export function defaultTraceDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, "test", "traces");
    if (existsSync(join(candidate, "traces.json"))) return candidate;
    dir = dirname(dir);
  }
  return resolve("test/traces");
}

export function readCatalog(dir: string): Record<string, CatalogEntry> {
  const path = join(dir, "traces.json");
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new TraceError(`${path}: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== "object") throw new TraceError(`${path}: must map trace names to entries`);
  return doc as Record<string, CatalogEntry>;
}

function instant(value: string, field: string): number {
  const t = Date.parse(value);
  if (!Number.isFinite(t)) throw new TraceError(`${field}: ${JSON.stringify(value)} is not an RFC 3339 time`);
  return t;
}

function readEntry(dir: string, name: string, e: CatalogEntry): Trace {
  if (typeof e?.file !== "string") throw new TraceError(`traces.json ${name}.file: required`);
  return readTrace(join(dir, e.file), { name, t0: instant(e.t0, `traces.json ${name}.t0`) });
}

/** The trace's demand (req/s, scaled) in `[from, to)` epoch ms at its own resolution, for warming a forecast. */
function historyOf(trace: Trace, from: number, to: number, scale: number): { t: number[]; v: number[] } {
  const t: number[] = [];
  const v: number[] = [];
  for (let i = 0; i < trace.t.length; i++) {
    const at = trace.t0 + (trace.t[i] as number) * 1000;
    if (at < from || at >= to) continue;
    t.push(at);
    v.push((trace.rate[i] as number) * scale);
  }
  return { t, v };
}

/** Loads a catalogued trace's simulated window (with its gaps) and its warm-up history. */
export function loadCatalogTrace(dir: string, name: string, options: { scale?: number } = {}): LoadedTrace {
  const catalog = readCatalog(dir);
  const entry = catalog[name];
  if (!entry)
    throw new TraceError(`unknown trace ${JSON.stringify(name)}; known: ${Object.keys(catalog).join(", ")}`);
  const trace = readEntry(dir, name, entry);
  const scale = options.scale ?? entry.scale ?? 1;
  const last = trace.t[trace.t.length - 1] as number;
  const dataEnd = trace.t0 + (last + trace.resolutionSeconds) * 1000;
  const from = entry.window ? instant(entry.window.from, `traces.json ${name}.window.from`) : trace.t0;
  const seconds = entry.window
    ? (entry.window.seconds ?? (entry.window.days ?? 1) * 86_400)
    : Math.round((dataEnd - from) / 1000);
  const load = perSecond(trace, Math.round((from - trace.t0) / 1000), seconds, scale);
  for (const [a, b] of entry.gaps ?? []) {
    const s0 = Math.max(0, Math.floor((instant(a, `traces.json ${name}.gaps`) - from) / 1000));
    const s1 = Math.min(seconds, Math.ceil((instant(b, `traces.json ${name}.gaps`) - from) / 1000));
    load.rate.fill(Number.NaN, s0, Math.max(s0, s1));
  }
  const out: LoadedTrace = { name, description: entry.description ?? name, start: from, load, scale };
  if (entry.history) {
    const source =
      entry.history.trace === name
        ? trace
        : readEntry(dir, entry.history.trace, catalog[entry.history.trace] as CatalogEntry);
    const sourceScale =
      entry.history.trace === name
        ? scale
        : (catalog[entry.history.trace]?.scale ?? 1) * (scale / (entry.scale ?? 1));
    out.history = historyOf(source, from - entry.history.days * 86_400_000, from, sourceScale);
  }
  return out;
}
