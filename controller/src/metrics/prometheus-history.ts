/**
 * Reads one workload's demand history from Prometheus (`/api/v1/query_range`) at a fixed step, for
 * predictive scaling to learn from on start-up. Long ranges are fetched in chunks, one request at a
 * time, and merged into one series.
 */
import { Pool } from "undici";

export interface HistoryQuery {
  /** Base URL of the Prometheus server, e.g. `http://prometheus.monitoring:9090` (a path prefix is kept). */
  url: string;
  /** PromQL that yields exactly one series, e.g. `sum(rate(http_requests_total{app="web"}[5m]))`. */
  query: string;
  /** First evaluation time, epoch milliseconds. */
  start: number;
  /** Last evaluation time at most, epoch milliseconds. */
  end: number;
  /** Resolution: one point every `stepSeconds` from `start`. */
  stepSeconds: number;
  /** Deadline for the whole fetch, all chunks included; default 30 000. */
  timeoutMs?: number;
  /** Sent with every request, e.g. `{ Authorization: "Bearer …" }`. */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Where these settings live in the caller's configuration, for error messages; default "history". */
  field?: string;
}

export interface HistorySeries {
  /** epoch ms, ascending */
  t: number[];
  v: number[];
}

export class PrometheusHistoryError extends Error {
  /** The offending setting, e.g. `predictive.history.query`; undefined when no one setting is at fault. */
  field?: string;

  constructor(message: string, options?: { field?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PrometheusHistoryError";
    if (options?.field !== undefined) this.field = options.field;
  }
}

/** Prometheus refuses more than 11,000 points per series in one range query; stay well below. */
export const MAX_STEPS_PER_REQUEST = 10_000;
/** A guard against a range or step typed wrong (a year at one second), not a Prometheus limit. */
export const MAX_TOTAL_STEPS = 1_000_000;
const DEFAULT_TIMEOUT_MS = 30_000;
/** Largest delay a Node timer honours; longer ones fire at once. */
const MAX_TIMEOUT_MS = 2_147_483_647;
/** One series of 10,000 points is well under 1 MiB; far more means many series or not Prometheus. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FLOAT_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
/** How Prometheus writes samples that are not numbers Ballast can use. */
const NON_FINITE = new Set(["NaN", "+Inf", "-Inf", "Inf"]);

interface Checked {
  base: URL;
  path: string;
  timeoutMs: number;
  headers: Record<string, string>;
  prefix: string;
}

function check(q: HistoryQuery): Checked {
  if (!isObject(q)) throw new PrometheusHistoryError("history: expected the query's settings, got none");
  const prefix = typeof q.field === "string" && q.field !== "" ? q.field : "history";
  const fail = (name: string, message: string): never => {
    throw new PrometheusHistoryError(`${prefix}.${name}: ${message}`, { field: `${prefix}.${name}` });
  };

  if (typeof q.url !== "string" || q.url.trim() === "") fail("url", "must not be empty");
  let base: URL | undefined;
  try {
    base = new URL(q.url);
  } catch {
    fail("url", `must be an http(s) URL such as http://prometheus:9090, got ${JSON.stringify(q.url)}`);
  }
  const url = base as URL;
  if (url.protocol !== "http:" && url.protocol !== "https:")
    fail("url", `must be an http(s) URL, got scheme ${JSON.stringify(url.protocol.replace(/:$/, ""))}`);
  // Credentials in the URL would end up in every error message and log line.
  if (url.username || url.password)
    fail("url", "must not carry credentials; send them in headers (Authorization) instead");
  if (url.search || url.hash) fail("url", "must be the server's base URL, without a query or fragment");

  if (typeof q.query !== "string" || q.query.trim() === "") fail("query", "must not be empty");

  const isEpochMs = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;
  if (!isEpochMs(q.start))
    fail("start", `must be epoch milliseconds (an integer ≥ 0), got ${String(q.start)}`);
  if (!isEpochMs(q.end)) fail("end", `must be epoch milliseconds (an integer ≥ 0), got ${String(q.end)}`);
  if (q.start >= q.end)
    fail(
      "end",
      `must be after start (${new Date(q.start).toISOString()}), got ${new Date(q.end).toISOString()}`,
    );

  if (typeof q.stepSeconds !== "number" || !Number.isInteger(q.stepSeconds) || q.stepSeconds <= 0)
    fail("stepSeconds", `must be a positive integer, got ${String(q.stepSeconds)}`);
  const steps = Math.floor((q.end - q.start) / (q.stepSeconds * 1000)) + 1;
  if (steps > MAX_TOTAL_STEPS)
    fail(
      "stepSeconds",
      `the range holds ${steps} points at ${q.stepSeconds} s, more than ${MAX_TOTAL_STEPS}: use a larger step or a shorter range`,
    );

  const timeoutMs = q.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (
    typeof timeoutMs !== "number" ||
    !Number.isFinite(timeoutMs) ||
    timeoutMs <= 0 ||
    timeoutMs > MAX_TIMEOUT_MS
  )
    fail(
      "timeoutMs",
      `must be a number of milliseconds above 0 and at most ${MAX_TIMEOUT_MS}, got ${String(timeoutMs)}`,
    );

  const headers: Record<string, string> = {};
  if (q.headers !== undefined) {
    if (typeof q.headers !== "object" || q.headers === null || Array.isArray(q.headers))
      fail("headers", "must be a map of header names to values");
    for (const [name, value] of Object.entries(q.headers)) {
      if (!HEADER_NAME.test(name)) fail("headers", `${JSON.stringify(name)} is not a valid header name`);
      if (typeof value !== "string" || /[\r\n\0]/.test(value))
        fail(`headers.${name}`, "must be a string on one line");
      // The request's body format is Ballast's to choose.
      if (name.toLowerCase() !== "content-type" && name.toLowerCase() !== "content-length")
        headers[name] = value;
    }
  }
  if (q.signal !== undefined && !(q.signal instanceof AbortSignal)) fail("signal", "must be an AbortSignal");

  const path = `${url.pathname.replace(/\/+$/, "")}/api/v1/query_range`;
  return { base: url, path, timeoutMs: Math.ceil(timeoutMs), headers, prefix };
}

/** Prometheus takes times as (fractional) Unix seconds; written from integers so no float rounding. */
function unixSeconds(ms: number): string {
  return `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, "0")}`;
}

function snippet(body: string): string {
  const s = body.replace(/\s+/g, " ").trim();
  if (s === "") return "(empty body)";
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function labelText(metric: Record<string, unknown>): string {
  const parts = Object.keys(metric)
    .sort()
    .map((k) => `${k}=${JSON.stringify(String(metric[k]))}`);
  return `{${parts.join(", ")}}`;
}

/** Reads the whole body, refusing one that is too large to be a one-series answer. */
async function readBody(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function transportError(err: unknown, where: string, prefix: string): PrometheusHistoryError {
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown } };
  const code = typeof e?.code === "string" ? e.code : typeof e?.cause?.code === "string" ? e.cause.code : "";
  const detail: Record<string, string> = {
    ECONNREFUSED: "connection refused (is Prometheus running there, and is the port right?)",
    ENOTFOUND: "host not found",
    EAI_AGAIN: "host name could not be resolved (DNS)",
    ECONNRESET: "the connection was reset",
    EHOSTUNREACH: "host unreachable",
    ENETUNREACH: "network unreachable",
    UND_ERR_CONNECT_TIMEOUT: "connecting timed out",
    UND_ERR_SOCKET: "the connection closed before the answer was complete",
    UND_ERR_HEADERS_TIMEOUT: "no answer in time",
    UND_ERR_BODY_TIMEOUT: "the answer stalled",
  };
  const why = detail[code] ?? (typeof e?.message === "string" ? e.message : String(err));
  return new PrometheusHistoryError(`${prefix}: cannot read from Prometheus at ${where}: ${why}`, {
    cause: err,
  });
}

/** Fetches `query` over [start, end] at `stepSeconds`; no data gives empty arrays, never zeros. */
export async function fetchHistory(q: HistoryQuery): Promise<HistorySeries> {
  const c = check(q);
  const { prefix } = c;
  const where = `${c.base.origin}${c.path}`;
  const stepMs = q.stepSeconds * 1000;

  if (q.signal?.aborted)
    throw new PrometheusHistoryError(`${prefix}: aborted before the first request`, {
      cause: q.signal.reason,
    });

  // One deadline for the whole fetch, and the caller's signal, both stop the request under way.
  const ac = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort(new Error("timeout"));
  }, c.timeoutMs);
  const onCallerAbort = () => ac.abort(q.signal?.reason);
  q.signal?.addEventListener("abort", onCallerAbort, { once: true });
  // A pool of its own: history is read once at start-up, and no idle socket should outlive the fetch.
  const pool = new Pool(c.base.origin, {
    connections: 1,
    headersTimeout: c.timeoutMs,
    bodyTimeout: c.timeoutMs,
  });

  const out: HistorySeries = { t: [], v: [] };
  const seen = new Map<string, string>(); // label-set key → printable label set
  try {
    for (let from = q.start; from <= q.end; from += MAX_STEPS_PER_REQUEST * stepMs) {
      // Chunks never share a timestamp: the next one starts one step after this one's last point.
      const to = Math.min(q.end, from + (MAX_STEPS_PER_REQUEST - 1) * stepMs);
      const form = new URLSearchParams({
        query: q.query,
        start: unixSeconds(from),
        end: unixSeconds(to),
        step: String(q.stepSeconds),
      });
      let status: number;
      let body: string | undefined;
      let location: string | undefined;
      try {
        const res = await pool.request({
          method: "POST",
          path: c.path,
          headers: {
            ...c.headers,
            "content-type": "application/x-www-form-urlencoded",
            accept: "application/json",
          },
          body: form.toString(),
          signal: ac.signal,
        });
        status = res.statusCode;
        const loc = res.headers.location;
        location = Array.isArray(loc) ? loc[0] : loc;
        body = await readBody(res.body);
      } catch (err) {
        if (timedOut)
          throw new PrometheusHistoryError(
            `${prefix}: Prometheus at ${where} did not answer within ${c.timeoutMs} ms`,
            { cause: err },
          );
        if (q.signal?.aborted)
          throw new PrometheusHistoryError(`${prefix}: aborted`, { cause: q.signal.reason });
        throw transportError(err, where, prefix);
      }
      const last = from + MAX_STEPS_PER_REQUEST * stepMs > q.end;
      const series = parseMatrix(status, body, location, where, prefix);
      for (const s of series) if (!seen.has(s.key)) seen.set(s.key, s.labels);
      if (seen.size > 1) {
        const shown = [...seen.values()].slice(0, 3).join(", ");
        throw new PrometheusHistoryError(
          `${prefix}.query: returned ${last ? "" : "at least "}${seen.size} series (${shown}${seen.size > 3 ? ", …" : ""}), ` +
            `but the history must be one series: aggregate them, e.g. sum(${q.query.trim()})`,
          { field: `${prefix}.query` },
        );
      }
      const only = series[0];
      if (!only) continue;
      for (const [t, v] of only.samples) {
        // Samples come in order; anything not after the last one kept would be a duplicate.
        if (out.t.length > 0 && t <= (out.t[out.t.length - 1] as number)) continue;
        out.t.push(t);
        out.v.push(v);
      }
    }
    return out;
  } finally {
    clearTimeout(timer);
    q.signal?.removeEventListener("abort", onCallerAbort);
    await pool.destroy();
  }
}

interface ParsedSeries {
  key: string;
  labels: string;
  /** [epoch ms, finite value] */
  samples: [number, number][];
}

/** Checks one answer of /api/v1/query_range and returns its series; every problem is a clear error. */
function parseMatrix(
  status: number,
  body: string | undefined,
  location: string | undefined,
  where: string,
  prefix: string,
): ParsedSeries[] {
  const fail = (message: string): never => {
    throw new PrometheusHistoryError(`${prefix}: ${message}`);
  };
  if (body === undefined)
    fail(
      `Prometheus at ${where} answered HTTP ${status} with more than ${MAX_BODY_BYTES / 1024 / 1024} MiB; ` +
        "one series is far smaller, so the query likely returns many series: aggregate them with sum(...)",
    );
  const text = body as string;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    doc = undefined;
  }
  if (isObject(doc) && doc.status === "error") {
    const type = typeof doc.errorType === "string" && doc.errorType ? ` (${doc.errorType})` : "";
    const msg = typeof doc.error === "string" && doc.error ? doc.error : snippet(text);
    // Ballast checks every other parameter itself, so bad data is the query's (a PromQL error).
    const field = doc.errorType === "bad_data" ? `${prefix}.query` : undefined;
    throw new PrometheusHistoryError(
      `${field ?? prefix}: Prometheus at ${where} answered HTTP ${status}${type}: ${msg}`,
      { field },
    );
  }
  if (status < 200 || status > 299) {
    const hint =
      status >= 300 && status < 400 && location ? ` (redirect to ${location}; use that as url)` : "";
    fail(`Prometheus at ${where} answered HTTP ${status}${hint}: ${snippet(text)}`);
  }
  if (doc === undefined)
    fail(
      `Prometheus at ${where} answered HTTP ${status} with a body that is not JSON (is url a Prometheus server?): ${snippet(text)}`,
    );
  const shape = (why: string): never =>
    fail(`Prometheus at ${where} answered HTTP ${status} with JSON that is not a range-query result: ${why}`);
  if (!isObject(doc)) shape("not a JSON object");
  if ((doc as Record<string, unknown>).status !== "success")
    shape(`"status" is ${JSON.stringify((doc as Record<string, unknown>).status) ?? "missing"}`);
  const data = (doc as Record<string, unknown>).data;
  if (!isObject(data)) shape(`no "data" object`);
  const d = data as Record<string, unknown>;
  if (d.resultType !== "matrix") shape(`"resultType" is ${JSON.stringify(d.resultType)}, expected "matrix"`);
  if (!Array.isArray(d.result)) shape(`"result" is not a list`);

  return (d.result as unknown[]).map((entry, i) => {
    if (!isObject(entry) || !isObject(entry.metric)) return shape(`result[${i}] has no "metric" labels`);
    const metric = entry.metric as Record<string, unknown>;
    const labels = labelText(metric);
    if (entry.values === undefined && entry.histograms !== undefined)
      return fail(`${labels} holds native histograms; the history query must yield plain numbers`);
    if (!Array.isArray(entry.values)) return shape(`result[${i}] has no "values" list`);
    const samples: [number, number][] = [];
    for (const [j, pair] of (entry.values as unknown[]).entries()) {
      const at = `result[${i}].values[${j}]`;
      if (!Array.isArray(pair) || pair.length !== 2) return shape(`${at} is not a [time, value] pair`);
      const [ts, raw] = pair as [unknown, unknown];
      if (typeof ts !== "number" || !Number.isFinite(ts)) return shape(`${at} has no numeric time`);
      if (typeof raw !== "string") return shape(`${at} has a value that is not a string`);
      // NaN and infinities carry no demand; leave a gap rather than invent a number.
      if (NON_FINITE.has(raw)) continue;
      if (!FLOAT_TEXT.test(raw)) return shape(`${at} has the value ${JSON.stringify(raw.slice(0, 40))}`);
      samples.push([Math.round(ts * 1000), Number(raw)]);
    }
    return {
      key: JSON.stringify(Object.entries(metric).sort(([a], [b]) => (a < b ? -1 : 1))),
      labels,
      samples,
    };
  });
}
