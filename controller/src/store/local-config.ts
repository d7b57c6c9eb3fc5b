import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { type Document, isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { LoadPhase } from "../local/load-profile.js";
import type { ScalingPolicySpec } from "../scaling/types.js";
import { validateScalingPolicy } from "../scaling/validate-policy.js";
import { ConfigFileError, type ConfigProblem, parseFieldPath } from "./config-error.js";

/** One workload of local mode: how to run a replica, and its scaling policy. */
export interface LocalWorkload {
  name: string;
  /** The replica's command line, run from the config file's folder. */
  command: string[];
  env: Record<string, string>;
  /** Port of the workload's front proxy on 127.0.0.1 (0 = any free port). */
  port: number;
  drainDeadlineMs: number;
  policy: ScalingPolicySpec;
}

export interface LocalConfig {
  file: string;
  /** Folder commands run from. */
  baseDir: string;
  syncPeriodMs: number;
  reportIntervalMs: number;
  workloads: LocalWorkload[];
  load: { workload: string; phases: LoadPhase[] } | undefined;
}

type Path = (string | number)[];
type Problem = { path: Path; message: string };

const NAME = /^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$/;
const TOP_KEYS = ["controller", "workloads", "load"];
const WORKLOAD_KEYS = ["name", "command", "env", "port", "drainDeadlineSeconds", "policy"];
const PHASE_KEYS = ["name", "seconds", "rps", "fromRps", "toRps"];

function fieldName(path: Path): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Collects problems for one file's parsed content; each check names the field it refuses. */
class Checker {
  readonly problems: Problem[] = [];

  fail(path: Path, message: string): undefined {
    this.problems.push({ path, message });
    return undefined;
  }

  object(v: unknown, path: Path, keys: string[]): Record<string, unknown> | undefined {
    if (!isObject(v)) return this.fail(path, "must be a mapping");
    for (const k of Object.keys(v))
      if (!keys.includes(k)) this.fail([...path, k], `unknown field; expected one of ${keys.join(", ")}`);
    return v;
  }

  number(
    v: unknown,
    path: Path,
    min: number,
    max: number,
    fallback?: number,
    integer = false,
  ): number | undefined {
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== "number" || !Number.isFinite(v))
      return this.fail(path, `must be a number, got ${JSON.stringify(v)}`);
    if (integer && !Number.isInteger(v)) return this.fail(path, `must be an integer, got ${v}`);
    if (v < min || v > max) return this.fail(path, `must be from ${min} to ${max}, got ${v}`);
    return v;
  }

  name(v: unknown, path: Path): string | undefined {
    if (typeof v !== "string" || !NAME.test(v))
      return this.fail(
        path,
        `must be a lower-case DNS label of at most 42 characters, got ${JSON.stringify(v)}`,
      );
    return v;
  }
}

function checkWorkload(c: Checker, raw: unknown, path: Path): LocalWorkload | undefined {
  const w = c.object(raw, path, WORKLOAD_KEYS);
  if (!w) return undefined;
  const name = c.name(w.name, [...path, "name"]);
  const command = w.command;
  if (
    !Array.isArray(command) ||
    command.length === 0 ||
    !command.every((a) => typeof a === "string" && a.length > 0)
  ) {
    c.fail([...path, "command"], "must be a non-empty list of non-empty strings");
  }
  const env: Record<string, string> = {};
  if (w.env !== undefined) {
    if (!isObject(w.env)) c.fail([...path, "env"], "must be a mapping of names to strings");
    else
      for (const [k, v] of Object.entries(w.env)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
          c.fail([...path, "env", k], "is not a valid environment variable name");
        else if (typeof v !== "string" && typeof v !== "number")
          c.fail([...path, "env", k], "must be a string");
        else env[k] = String(v);
      }
  }
  const port = c.number(w.port, [...path, "port"], 0, 65535, 0, true);
  const drain = c.number(w.drainDeadlineSeconds, [...path, "drainDeadlineSeconds"], 0, 3600, 10);
  const errors = validateScalingPolicy(w.policy, fieldName([...path, "policy"]));
  for (const e of errors) {
    const i = e.indexOf(": ");
    c.problems.push({
      path: parseFieldPath(i > 0 ? e.slice(0, i) : fieldName([...path, "policy"])),
      message: i > 0 ? e.slice(i + 2) : e,
    });
  }
  if (errors.length === 0)
    checkLocalMetrics(c, w.policy as ScalingPolicySpec, [...path, "policy", "metrics"]);
  if (name === undefined || port === undefined || drain === undefined || errors.length > 0) return undefined;
  return {
    name,
    command: command as string[],
    env,
    port,
    drainDeadlineMs: drain * 1000,
    policy: w.policy as ScalingPolicySpec,
  };
}

/**
 * Local replicas are processes, not pods: they declare no container requests and have no external
 * metric source, so only metrics their agents measure can drive them.
 */
function checkLocalMetrics(c: Checker, policy: ScalingPolicySpec, path: Path): void {
  const metrics = policy.metrics ?? [];
  if (metrics.length === 0) {
    c.fail(path, "required in local mode (the default, cpu Utilization, needs container requests)");
    return;
  }
  metrics.forEach((m, i) => {
    if (m.type === "Signal" || m.type === "Pods") return;
    if (m.type === "Resource" && m.resource.target.type === "AverageValue") return;
    c.fail(
      [...path, i],
      m.type === "Resource"
        ? "local replicas have no container requests: use target.type AverageValue"
        : `${m.type} metrics have no source in local mode: use Signal, Pods or Resource`,
    );
  });
}

function checkPhase(c: Checker, raw: unknown, path: Path): LoadPhase | undefined {
  const p = c.object(raw, path, PHASE_KEYS);
  if (!p) return undefined;
  const name =
    typeof p.name === "string" && p.name ? p.name : c.fail([...path, "name"], "must be a non-empty string");
  const seconds = c.number(p.seconds, [...path, "seconds"], 0.001, 86_400);
  let from: number | undefined;
  let to: number | undefined;
  if (p.rps !== undefined) {
    if (p.fromRps !== undefined || p.toRps !== undefined)
      c.fail([...path, "rps"], "give either rps or fromRps/toRps, not both");
    from = to = c.number(p.rps, [...path, "rps"], 0, 100_000);
  } else {
    from = c.number(p.fromRps, [...path, "fromRps"], 0, 100_000);
    to = c.number(p.toRps, [...path, "toRps"], 0, 100_000);
  }
  if (name === undefined || seconds === undefined || from === undefined || to === undefined) return undefined;
  return { name, seconds, fromRps: from, toRps: to };
}

/** Checks the parsed content of a local-mode config; returns the config or the problems found. */
export function checkLocalConfig(
  content: unknown,
  file: string,
): { config?: LocalConfig; problems: Problem[] } {
  const c = new Checker();
  const top = c.object(content, [], TOP_KEYS) ?? {};
  const ctl =
    top.controller === undefined
      ? {}
      : (c.object(top.controller, ["controller"], ["syncPeriodSeconds", "reportIntervalMs"]) ?? {});
  const sync = c.number(ctl.syncPeriodSeconds, ["controller", "syncPeriodSeconds"], 0.1, 60, 1);
  const interval = c.number(ctl.reportIntervalMs, ["controller", "reportIntervalMs"], 100, 60_000, 500, true);
  const workloads: LocalWorkload[] = [];
  if (!Array.isArray(top.workloads) || top.workloads.length === 0)
    c.fail(["workloads"], "must be a non-empty list");
  else
    top.workloads.forEach((w, i) => {
      const parsed = checkWorkload(c, w, ["workloads", i]);
      if (parsed) workloads.push(parsed);
    });
  const names = new Set<string>();
  workloads.forEach((w, i) => {
    if (names.has(w.name)) c.fail(["workloads", i, "name"], `duplicate workload name ${w.name}`);
    names.add(w.name);
  });
  // A workload refused for another field still has its name: `load` naming it is not a second error.
  if (Array.isArray(top.workloads))
    for (const w of top.workloads as { name?: unknown }[]) if (typeof w?.name === "string") names.add(w.name);
  let load: LocalConfig["load"];
  if (top.load !== undefined) {
    const l = c.object(top.load, ["load"], ["workload", "phases"]);
    if (l) {
      if (typeof l.workload !== "string" || !names.has(l.workload))
        c.fail(["load", "workload"], `must name one of the workloads (${[...names].join(", ")})`);
      const phases: LoadPhase[] = [];
      if (!Array.isArray(l.phases) || l.phases.length === 0)
        c.fail(["load", "phases"], "must be a non-empty list");
      else
        l.phases.forEach((p, i) => {
          const parsed = checkPhase(c, p, ["load", "phases", i]);
          if (parsed) phases.push(parsed);
        });
      load = { workload: l.workload as string, phases };
    }
  }
  if (c.problems.length > 0 || sync === undefined || interval === undefined) return { problems: c.problems };
  return {
    problems: [],
    config: {
      file,
      baseDir: dirname(resolve(file)),
      syncPeriodMs: sync * 1000,
      reportIntervalMs: interval,
      workloads,
      load,
    },
  };
}

/** The line of the field at `path` (its key), or of its nearest ancestor that exists. */
function lineOf(doc: Document, counter: LineCounter, path: Path): number | undefined {
  const line = (node: unknown) => {
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    return range ? counter.linePos(range[0]).line : undefined;
  };
  for (let n = path.length; n > 0; n--) {
    const parent = n === 1 ? doc.contents : doc.getIn(path.slice(0, n - 1), true);
    const key = path[n - 1];
    if (isMap(parent)) {
      const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === key);
      if (pair) return line(pair.key);
    } else if (isSeq(parent) && typeof key === "number" && parent.items[key]) {
      return line(parent.items[key]);
    }
  }
  return line(doc.contents);
}

/** Reads and checks a local-mode config file; throws ConfigFileError naming the file, line and field. */
export function loadLocalConfig(file: string): LocalConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigFileError([{ file, line: undefined, field: "(file)", message: (e as Error).message }]);
  }
  return parseLocalConfig(text, file);
}

export function parseLocalConfig(text: string, file: string): LocalConfig {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigFileError(
      doc.errors.map((e) => ({
        file,
        line: e.linePos?.[0]?.line ?? counter.linePos(e.pos[0]).line,
        field: "(syntax)",
        message: e.message.split("\n")[0] as string,
      })),
    );
  }
  const { config, problems } = checkLocalConfig(doc.toJS(), file);
  if (!config) {
    const located: ConfigProblem[] = problems.map((p) => ({
      file,
      line: lineOf(doc, counter, p.path),
      field: fieldName(p.path) || "(document)",
      message: p.message,
    }));
    throw new ConfigFileError(located);
  }
  return config;
}
