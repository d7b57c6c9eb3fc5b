import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Override } from "../scaling/overrides.js";

interface StateFile {
  /** Overrides per local workload name. */
  overrides: Record<string, Override[]>;
  /** Schedules switched at run time, per workload name. */
  scheduleSwitches: Record<string, Record<string, boolean>>;
}

/**
 * Local mode's state that must outlive a restart of `ballast start`: the replica-control overrides.
 * A JSON file, replaced atomically on every change; an unreadable file is reported, never guessed at.
 */
export class LocalState {
  private state: StateFile = { overrides: {}, scheduleSwitches: {} };

  constructor(readonly path: string) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      return; // first run
    }
    try {
      const parsed = JSON.parse(text) as Partial<StateFile>;
      this.state = {
        overrides: parsed?.overrides && typeof parsed.overrides === "object" ? parsed.overrides : {},
        scheduleSwitches:
          parsed?.scheduleSwitches && typeof parsed.scheduleSwitches === "object"
            ? parsed.scheduleSwitches
            : {},
      };
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
    this.save();
  }

  scheduleSwitches(workload: string): Record<string, boolean> {
    return this.state.scheduleSwitches[workload] ?? {};
  }

  setScheduleSwitch(workload: string, schedule: string, enabled: boolean): void {
    this.state.scheduleSwitches[workload] = { ...this.scheduleSwitches(workload), [schedule]: enabled };
    this.save();
  }

  private save(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(this.state, null, 2)}\n`);
    renameSync(tmp, this.path);
  }
}
