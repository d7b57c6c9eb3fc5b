/**
 * `ballast simulate`: replays a load trace through the reference workload model under several policies
 * side by side, prints a table, and writes the JSON report and the SVG chart.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { ScalingPolicySpec } from "../scaling/types.js";
import { validateScalingPolicy } from "../scaling/validate-policy.js";
import { defaultTraceDir, type LoadedTrace, loadCatalogTrace } from "../sim/catalog.js";
import { REFERENCE_POLICIES, type SimPolicy } from "../sim/reference-policies.js";
import { type SimulationResult, simulate } from "../sim/simulate.js";
import { renderChart } from "../sim/svg-chart.js";
import { perSecond, readTrace, TraceError } from "../sim/trace.js";
import { REFERENCE_WORKLOAD, type WorkloadModelSettings } from "../sim/workload-model.js";
import { FlagError, parseFlags } from "./flag-error.js";

export const SIMULATE_USAGE = `  ballast simulate --trace NAME|FILE [--json FILE] [--svg FILE] [options]
      Replays a load trace (CSV or JSON: t_seconds with requests per bin or rate per second, optional
      cost) on a virtual clock through the scaling pipeline under each policy, side by side, and reports
      pod-hours, SLO-violation and queueing minutes, scaling actions and peak replicas per policy.
      --trace NAME|FILE  a name from the trace catalog (wc98, nasa, wikipedia, spike, blackfriday) or a file
      --traces-dir DIR   the catalog's directory (default the repository's test/traces)
      --t0 TIME          a file's time zero (RFC 3339; default 1970-01-01T00:00:00Z)
      --from TIME --duration S   simulate only this window of a file
      --scale X          multiply the offered load (default: the catalog's, else 1)
      --policies FILE    YAML/JSON list of policies instead of the reference ones; an entry is a
                         reference name (hpa-cpu, hpa-signals, ballast) or {name, spec, syncSeconds,
                         windowSeconds, lagSeconds}
      --capacity R --startup S --readiness S --slo F   the workload model (default 100, 20, 10, 0.9)
      --json FILE  --svg FILE  --quiet (no progress)
`;

const SIM_METRICS = "Resource cpu, Signal rps, Signal inflight";

function positive(value: unknown, flag: string, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new FlagError(
      `--${flag}: must be a ${integer ? "positive integer" : "positive number"}, got ${JSON.stringify(value)}`,
    );
  return n;
}

function wholeSeconds(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(Number.isInteger(n) && n >= 0))
    throw new FlagError(`--${flag}: must be an integer ≥ 0, got ${JSON.stringify(value)}`);
  return n;
}

/** Reads and checks a policies file; problems name the entry and field. */
export function readPolicies(path: string): SimPolicy[] {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, "utf8"));
  } catch (e) {
    throw new FlagError(`--policies: ${path}: ${(e as Error).message}`);
  }
  if (!Array.isArray(doc) || doc.length === 0)
    throw new FlagError(`--policies: ${path}: must be a non-empty list`);
  const problems: string[] = [];
  const out: SimPolicy[] = [];
  doc.forEach((entry: unknown, i) => {
    const at = `[${i}]`;
    if (typeof entry === "string") {
      const ref = REFERENCE_POLICIES.find((p) => p.name === entry);
      if (ref) out.push(ref);
      else
        problems.push(
          `${at}: unknown reference policy ${JSON.stringify(entry)}; known: ${REFERENCE_POLICIES.map((p) => p.name).join(", ")}`,
        );
      return;
    }
    const e = entry as Partial<SimPolicy> | null;
    if (!e || typeof e !== "object") {
      problems.push(`${at}: must be a reference name or a mapping`);
      return;
    }
    if (typeof e.name !== "string" || e.name === "") problems.push(`${at}.name: required`);
    const spec = e.spec as ScalingPolicySpec | undefined;
    const specProblems = validateScalingPolicy(spec, `${at}.spec`);
    problems.push(...specProblems);
    (spec?.metrics ?? []).forEach((m, j) => {
      const ok =
        (m?.type === "Resource" && m.resource?.name === "cpu") ||
        (m?.type === "Signal" && (m.signal?.name === "rps" || m.signal?.name === "inflight"));
      if (!ok) problems.push(`${at}.spec.metrics[${j}]: the simulator measures ${SIM_METRICS}`);
    });
    for (const [k, lo, hi] of [
      ["syncSeconds", 1, 60],
      ["windowSeconds", 1, 120],
      ["lagSeconds", 0, 120],
    ] as const) {
      const v = e[k];
      if (!(Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi))
        problems.push(`${at}.${k}: must be an integer from ${lo} to ${hi}`);
    }
    if (
      Number.isInteger(e.windowSeconds) &&
      Number.isInteger(e.lagSeconds) &&
      (e.windowSeconds as number) + (e.lagSeconds as number) > 200
    )
      problems.push(`${at}: windowSeconds + lagSeconds must be at most 200`);
    if (specProblems.length === 0)
      out.push({
        name: e.name as string,
        description: typeof e.description === "string" ? e.description : (e.name as string),
        spec: spec as ScalingPolicySpec,
        syncSeconds: e.syncSeconds as number,
        windowSeconds: e.windowSeconds as number,
        lagSeconds: e.lagSeconds as number,
      });
  });
  if (problems.length > 0) throw new FlagError(`--policies: ${path}:\n  ${problems.join("\n  ")}`);
  const names = new Set<string>();
  for (const p of out) {
    if (names.has(p.name)) throw new FlagError(`--policies: ${path}: policy ${p.name} appears twice`);
    names.add(p.name);
  }
  return out;
}

export interface SimulationReport {
  trace: {
    name: string;
    description: string;
    from: string;
    to: string;
    simulatedSeconds: number;
    gapSeconds: number;
    scale: number;
    peakRate: number;
    meanRate: number;
  };
  workload: WorkloadModelSettings;
  policies: SimulationResult["policies"];
  /** The fewest pod-hours that never violate, with perfect foresight and instant start-up. */
  oraclePodHours: number;
  /** Each policy against the first one. */
  comparison: {
    baseline: string;
    policies: Record<string, { podHoursRatio: number; violationMinutesDelta: number }>;
  };
  timeline: SimulationResult["timeline"];
}

export function buildReport(
  trace: LoadedTrace,
  workload: WorkloadModelSettings,
  result: SimulationResult,
): SimulationReport {
  const base = result.policies[0];
  const comparison: SimulationReport["comparison"] = { baseline: base?.name ?? "", policies: {} };
  for (const p of result.policies)
    comparison.policies[p.name] = {
      podHoursRatio: base && base.podHours > 0 ? p.podHours / base.podHours : Number.NaN,
      violationMinutesDelta: p.violationMinutes - (base?.violationMinutes ?? 0),
    };
  return {
    trace: {
      name: trace.name,
      description: trace.description,
      from: new Date(trace.start).toISOString(),
      to: new Date(trace.start + trace.load.rate.length * 1000).toISOString(),
      simulatedSeconds: result.seconds,
      gapSeconds: result.gapSeconds,
      scale: trace.scale,
      peakRate: result.peakRate,
      meanRate: result.meanRate,
    },
    workload,
    policies: result.policies,
    oraclePodHours: result.oraclePodHours,
    comparison,
    timeline: result.timeline,
  };
}

export function formatTable(report: SimulationReport): string {
  const rows = [
    [
      "policy",
      "pod-hours",
      "vs first",
      "violation min",
      "queueing min",
      "actions",
      "peak",
      "dropped req",
      "forecast",
    ],
  ];
  for (const p of report.policies) {
    const c = report.comparison.policies[p.name];
    rows.push([
      p.name,
      p.podHours.toFixed(1),
      c ? `${((c.podHoursRatio - 1) * 100).toFixed(1)} %` : "",
      p.violationMinutes.toFixed(2),
      p.queueingMinutes.toFixed(2),
      String(p.scalingActions),
      String(p.peakReplicas),
      String(Math.round(p.droppedRequests)),
      p.predictive
        ? `on ${(p.predictive.activeShare * 100).toFixed(0)} %${p.predictive.lastMape !== undefined ? `, MAPE ${p.predictive.lastMape.toFixed(1)} %` : ""}`
        : "",
    ]);
  }
  rows.push([
    "(oracle)",
    report.oraclePodHours.toFixed(1),
    "",
    "0.00",
    "0.00",
    "",
    "",
    "",
    "perfect foresight, instant start",
  ]);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  "))
    .join("\n");
}

function loadTrace(values: Record<string, string | boolean | undefined>): LoadedTrace {
  const spec = values.trace as string;
  const scale = positive(values.scale, "scale");
  const looksLikeFile = /\.(csv|json)(\.gz)?$/.test(spec) || spec.includes("/");
  if (!looksLikeFile) {
    // A catalogued trace has its t0 and window in traces.json; silently ignoring these would mislead.
    for (const flag of ["t0", "from", "duration"])
      if (values[flag] !== undefined)
        throw new FlagError(`--${flag}: only with a trace file; ${spec}'s window is set in traces.json`);
    return loadCatalogTrace(
      (values["traces-dir"] as string) ?? defaultTraceDir(),
      spec,
      scale ? { scale } : {},
    );
  }
  let t0 = 0;
  if (values.t0 !== undefined) {
    t0 = Date.parse(values.t0 as string);
    if (!Number.isFinite(t0)) throw new FlagError(`--t0: not an RFC 3339 time: ${JSON.stringify(values.t0)}`);
  }
  const trace = readTrace(spec, { t0 });
  const first = trace.t0 + (trace.t[0] as number) * 1000;
  const last = trace.t0 + ((trace.t[trace.t.length - 1] as number) + trace.resolutionSeconds) * 1000;
  let from = first;
  if (values.from !== undefined) {
    from = Date.parse(values.from as string);
    if (!Number.isFinite(from))
      throw new FlagError(`--from: not an RFC 3339 time: ${JSON.stringify(values.from)}`);
  }
  const duration = positive(values.duration, "duration", true) ?? Math.round((last - from) / 1000);
  if (duration <= 0)
    throw new FlagError(`--from: after the end of the trace (${new Date(last).toISOString()})`);
  return {
    name: trace.name,
    description: spec,
    start: from,
    load: perSecond(trace, Math.round((from - trace.t0) / 1000), duration, scale ?? 1),
    scale: scale ?? 1,
  };
}

export async function runSimulate(
  args: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
): Promise<number> {
  const values = parseFlags(args, {
    trace: { type: "string" },
    "traces-dir": { type: "string" },
    t0: { type: "string" },
    from: { type: "string" },
    duration: { type: "string" },
    scale: { type: "string" },
    policies: { type: "string" },
    capacity: { type: "string" },
    startup: { type: "string" },
    readiness: { type: "string" },
    slo: { type: "string" },
    json: { type: "string" },
    svg: { type: "string" },
    quiet: { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    out(SIMULATE_USAGE);
    return 0;
  }
  if (values.trace === undefined)
    throw new FlagError("--trace: required (a catalog name or a CSV/JSON file)");
  const workload: WorkloadModelSettings = { ...REFERENCE_WORKLOAD };
  workload.capacityPerPod = positive(values.capacity, "capacity") ?? workload.capacityPerPod;
  workload.startupSeconds = wholeSeconds(values.startup, "startup") ?? workload.startupSeconds;
  workload.readinessSeconds = wholeSeconds(values.readiness, "readiness") ?? workload.readinessSeconds;
  const slo = positive(values.slo, "slo");
  if (slo !== undefined && slo > 1) throw new FlagError(`--slo: a share of capacity from 0 to 1, got ${slo}`);
  workload.sloUtilization = slo ?? workload.sloUtilization;
  const policies = values.policies ? readPolicies(values.policies as string) : [...REFERENCE_POLICIES];

  let trace: LoadedTrace;
  try {
    trace = loadTrace(values);
  } catch (e) {
    if (e instanceof TraceError) throw new FlagError(`--trace: ${e.message}`);
    throw e;
  }
  const began = Date.now();
  let shown = -10;
  const quiet = values.quiet === true;
  const result = simulate({
    load: trace.load,
    start: trace.start,
    policies,
    workload,
    ...(trace.history ? { history: trace.history } : {}),
    onProgress: quiet
      ? undefined
      : (done) => {
          const pct = Math.floor(done * 100);
          if (pct < shown + 10 && pct < 100) return;
          shown = pct;
          const simulated = Math.round(done * trace.load.rate.length);
          process.stderr.write(
            `simulate ${trace.name}: ${pct} % (${simulated.toLocaleString("en-US")} of ${trace.load.rate.length.toLocaleString("en-US")} s) after ${((Date.now() - began) / 1000).toFixed(1)} s\n`,
          );
        },
  });
  const report = buildReport(trace, workload, result);
  out(
    `${trace.description}\n${report.trace.from} → ${report.trace.to}, peak ${report.trace.peakRate.toFixed(0)} req/s, mean ${report.trace.meanRate.toFixed(0)} req/s${report.trace.gapSeconds ? `, ${report.trace.gapSeconds} s without data skipped` : ""}\n`,
  );
  out(`${formatTable(report)}\n`);
  if (values.json) writeFileSync(values.json as string, `${JSON.stringify(report)}\n`);
  if (values.svg)
    writeFileSync(
      values.svg as string,
      renderChart(
        result,
        `${trace.name}: ${report.trace.from.slice(0, 16)} → ${report.trace.to.slice(0, 16)} UTC`,
        workload.capacityPerPod,
      ),
    );
  return 0;
}
