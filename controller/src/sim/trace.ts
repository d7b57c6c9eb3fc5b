/**
 * Load traces for the simulator: time → offered requests, from CSV or JSON, optionally gzip-compressed.
 *
 * CSV: a header naming `t_seconds` and `requests` (a count per bin) or `rate` (requests per second), and
 * optionally `cost` (CPU per request relative to the nominal one). JSON: `{t0?, resolutionSeconds?,
 * points: [{t, requests | rate, cost?}]}` or just the array. A missing bin is a gap (no data), never zero.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

export interface Trace {
  name: string;
  /** Epoch ms of t = 0. */
  t0: number;
  /** Width of one bin, seconds. */
  resolutionSeconds: number;
  /** Bin start times, seconds from t0, ascending. */
  t: Float64Array;
  /** Offered load per bin, requests per second. */
  rate: Float64Array;
  /** CPU per request relative to nominal (1 = a pod's nominal capacity); absent means 1. */
  cost?: Float64Array;
}

export class TraceError extends Error {}

export interface TraceOptions {
  name?: string;
  /** Epoch ms of t = 0 when the file does not say (default 0). */
  t0?: number;
  /** Bin width when the file does not say; default the smallest step between rows. */
  resolutionSeconds?: number;
}

/** Reads a trace file (.csv, .json, each optionally .gz). Errors name the file and line or field. */
export function readTrace(path: string, options: TraceOptions = {}): Trace {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new TraceError(`${path}: cannot read: ${(e as Error).message}`);
  }
  const gz = path.endsWith(".gz");
  let text: string;
  try {
    text = (gz ? gunzipSync(bytes) : bytes).toString("utf8");
  } catch (e) {
    throw new TraceError(`${path}: not valid gzip: ${(e as Error).message}`);
  }
  const base = path.replace(/\.gz$/, "");
  const name = options.name ?? base.replace(/^.*\//, "").replace(/\.(csv|json)$/, "");
  if (base.endsWith(".json")) return parseJsonTrace(text, { ...options, name }, path);
  return parseCsvTrace(text, { ...options, name }, path);
}

interface Rows {
  t: number[];
  value: number[];
  cost: number[] | undefined;
  isRate: boolean;
}

export function parseCsvTrace(text: string, options: TraceOptions, where = "trace"): Trace {
  const lines = text.split(/\r?\n/);
  let lineNo = 0;
  let header: string[] | undefined;
  while (lineNo < lines.length) {
    const line = (lines[lineNo++] as string).trim();
    if (line === "" || line.startsWith("#")) continue;
    header = line.split(",").map((h) => h.trim().toLowerCase());
    break;
  }
  if (!header) throw new TraceError(`${where}: empty trace`);
  const ti = header.findIndex((h) => h === "t_seconds" || h === "t" || h === "time");
  const ri = header.indexOf("requests");
  const rate = header.indexOf("rate");
  const ci = header.indexOf("cost");
  if (ti < 0)
    throw new TraceError(`${where}:${lineNo}: header needs a t_seconds column, got ${header.join(",")}`);
  if (ri < 0 && rate < 0)
    throw new TraceError(
      `${where}:${lineNo}: header needs a requests or rate column, got ${header.join(",")}`,
    );
  const vi = ri >= 0 ? ri : rate;
  const rows: Rows = { t: [], value: [], cost: ci >= 0 ? [] : undefined, isRate: ri < 0 };
  for (; lineNo < lines.length; lineNo++) {
    const line = (lines[lineNo] as string).trim();
    if (line === "" || line.startsWith("#")) continue;
    const cells = line.split(",");
    const t = Number(cells[ti]);
    const v = Number(cells[vi]);
    if (!Number.isFinite(t))
      throw new TraceError(`${where}:${lineNo + 1}: t_seconds ${JSON.stringify(cells[ti])} is not a number`);
    if (!Number.isFinite(v) || v < 0)
      throw new TraceError(
        `${where}:${lineNo + 1}: ${header[vi]} ${JSON.stringify(cells[vi])} is not a number ≥ 0`,
      );
    rows.t.push(t);
    rows.value.push(v);
    if (rows.cost) {
      const c = Number(cells[ci]);
      if (!Number.isFinite(c) || c <= 0)
        throw new TraceError(`${where}:${lineNo + 1}: cost ${JSON.stringify(cells[ci])} is not a number > 0`);
      rows.cost.push(c);
    }
  }
  return build(rows, options, where);
}

export function parseJsonTrace(text: string, options: TraceOptions, where = "trace"): Trace {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new TraceError(`${where}: not JSON: ${(e as Error).message}`);
  }
  const obj = (Array.isArray(doc) ? { points: doc } : doc) as {
    t0?: unknown;
    resolutionSeconds?: unknown;
    points?: unknown;
  };
  if (!obj || typeof obj !== "object" || !Array.isArray(obj.points))
    throw new TraceError(`${where}: points: must be a list of {t, requests | rate, cost?}`);
  const opts = { ...options };
  if (obj.t0 !== undefined) {
    const t0 = typeof obj.t0 === "string" ? Date.parse(obj.t0) : Number(obj.t0);
    if (!Number.isFinite(t0)) throw new TraceError(`${where}: t0: not a time (RFC 3339 or epoch ms)`);
    opts.t0 = t0;
  }
  if (obj.resolutionSeconds !== undefined) {
    if (!(typeof obj.resolutionSeconds === "number" && obj.resolutionSeconds > 0))
      throw new TraceError(`${where}: resolutionSeconds: must be a number > 0`);
    opts.resolutionSeconds = obj.resolutionSeconds;
  }
  const points = obj.points as Record<string, unknown>[];
  const first = points[0];
  const isRate = first !== undefined && first.requests === undefined && first.rate !== undefined;
  const withCost = first !== undefined && first.cost !== undefined;
  const rows: Rows = { t: [], value: [], cost: withCost ? [] : undefined, isRate };
  points.forEach((p, i) => {
    const at = `${where}: points[${i}]`;
    if (!p || typeof p !== "object") throw new TraceError(`${at}: must be an object`);
    const t = Number(p.t);
    const v = Number(isRate ? p.rate : p.requests);
    if (!Number.isFinite(t)) throw new TraceError(`${at}.t: not a number`);
    if (!Number.isFinite(v) || v < 0)
      throw new TraceError(`${at}.${isRate ? "rate" : "requests"}: not a number ≥ 0`);
    rows.t.push(t);
    rows.value.push(v);
    if (rows.cost) {
      const c = Number(p.cost);
      if (!Number.isFinite(c) || c <= 0) throw new TraceError(`${at}.cost: not a number > 0`);
      rows.cost.push(c);
    }
  });
  return build(rows, opts, where);
}

function build(rows: Rows, options: TraceOptions, where: string): Trace {
  const n = rows.t.length;
  if (n === 0) throw new TraceError(`${where}: no data rows`);
  let step = Number.POSITIVE_INFINITY;
  for (let i = 1; i < n; i++) {
    const d = (rows.t[i] as number) - (rows.t[i - 1] as number);
    if (d <= 0) throw new TraceError(`${where}: rows must be in increasing time order (row ${i + 1})`);
    step = Math.min(step, d);
  }
  const resolution = options.resolutionSeconds ?? (Number.isFinite(step) ? step : 1);
  if (!(resolution > 0)) throw new TraceError(`${where}: resolutionSeconds must be > 0`);
  const rate = new Float64Array(n);
  for (let i = 0; i < n; i++)
    rate[i] = rows.isRate ? (rows.value[i] as number) : (rows.value[i] as number) / resolution;
  const trace: Trace = {
    name: options.name ?? "trace",
    t0: options.t0 ?? 0,
    resolutionSeconds: resolution,
    t: Float64Array.from(rows.t),
    rate,
  };
  if (rows.cost) trace.cost = Float64Array.from(rows.cost);
  return trace;
}

/** A trace's load per second over [from, from + seconds): rate and cost, NaN rate in gaps. */
export interface PerSecond {
  rate: Float64Array;
  cost: Float64Array | undefined;
}

/**
 * Offered load per second of simulated time from `from` (seconds from t0) for `seconds`. A bin wider
 * than a second is spread linearly between the centres of neighbouring bins (real demand does not jump
 * on the hour), flat in its outer halves at the edges of the data; a second not covered by any bin is
 * NaN (a gap). `scale` multiplies the load.
 */
export function perSecond(trace: Trace, from: number, seconds: number, scale = 1): PerSecond {
  const out = new Float64Array(seconds).fill(Number.NaN);
  const cost = trace.cost ? new Float64Array(seconds).fill(1) : undefined;
  const res = trace.resolutionSeconds;
  const { t, rate } = trace;
  const n = t.length;
  // First bin that may cover `from`.
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((t[mid] as number) + res <= from) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < n; i++) {
    const start = t[i] as number;
    if (start >= from + seconds) break;
    const r = rate[i] as number;
    const prevAdjacent = i > 0 && (t[i - 1] as number) + res === start;
    const nextAdjacent = i + 1 < n && (t[i + 1] as number) === start + res;
    const centre = start + res / 2;
    const s0 = Math.max(from, Math.ceil(start));
    const s1 = Math.min(from + seconds, Math.ceil(start + res));
    for (let s = s0; s < s1; s++) {
      let v = r;
      if (res > 1) {
        const mid = s + 0.5;
        if (mid < centre && prevAdjacent) {
          const p = rate[i - 1] as number;
          v = p + (r - p) * ((mid - (centre - res)) / res);
        } else if (mid > centre && nextAdjacent) {
          const q = rate[i + 1] as number;
          v = r + (q - r) * ((mid - centre) / res);
        }
      }
      out[s - from] = v * scale;
      if (cost && trace.cost) cost[s - from] = trace.cost[i] as number;
    }
  }
  return { rate: out, cost };
}
