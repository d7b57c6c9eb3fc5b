/** One problem in a configuration file, located by file, line and field path. */
export interface ConfigProblem {
  file: string;
  /** 1-based; undefined when the field could not be located. */
  line: number | undefined;
  /** Dotted path such as `workloads[0].policy.maxReplicas`. */
  field: string;
  message: string;
}

/** A configuration file that cannot be used; the message lists every problem, one per line. */
export class ConfigFileError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map((p) => `${p.file}:${p.line ?? "?"}: ${p.field}: ${p.message}`).join("\n"));
    this.name = "ConfigFileError";
  }
}

/** Splits `a.b[0].c` into ["a", "b", 0, "c"]. */
export function parseFieldPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/g)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[3] !== undefined) out.push(JSON.parse(`"${m[3]}"`));
  }
  return out;
}
