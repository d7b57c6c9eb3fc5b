import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Override } from "../scaling/overrides.js";

interface StateFile {
  /** Overrides per local workload name. */
  overrides: Record<string, Override[]>;
}

/**
 * Local mode's state that must outlive a restart of `ballast start`: the replica-control overrides.
 * A JSON file, replaced atomically on every change; an unreadable file is reported, never guessed at.
 */
export class LocalState {
  private state: StateFile = { overrides: {} };

  constructor(readonly path: string) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      return; // first run
    }
    try {
      const parsed = JSON.parse(text) as Partial<StateFile>;
      if (parsed && typeof parsed.overrides === "object" && parsed.overrides)
        this.state = { overrides: parsed.overrides };
    } catch (e) {
      throw new Error(
        `${path}: not a Ballast state file (${(e as Error).message}); move it away to start afresh`,
      );
    }
  }

  overrides(workload: string): Override[] {
    return this.state.overrides[workload] ?? [];
  }

  setOverrides(workload: string, overrides: Override[]): void {
    this.state.overrides[workload] = overrides;
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(this.state, null, 2)}\n`);
    renameSync(tmp, this.path);
  }
}
