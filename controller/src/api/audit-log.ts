import { appendFileSync } from "node:fs";

/** One change made through the replica-control API, or a refused attempt. */
export interface AuditEntry {
  time: string;
  user: string;
  /** namespace/name of the ScalingPolicy. */
  workload: string;
  action: string;
  /** "allowed" or the reason it was refused. */
  outcome: string;
  from?: unknown;
  to?: unknown;
  reason?: string;
}

/**
 * The audit trail: a JSON line per entry appended to a file (when configured) and the newest entries
 * kept in memory for the API to read.
 */
export class AuditLog {
  private readonly recent: AuditEntry[] = [];

  constructor(
    private readonly file: string | undefined,
    private readonly keep = 1000,
  ) {}

  write(entry: AuditEntry): void {
    this.recent.push(entry);
    if (this.recent.length > this.keep) this.recent.splice(0, this.recent.length - this.keep);
    if (this.file) appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
  }

  entries(workload?: string): AuditEntry[] {
    return workload ? this.recent.filter((e) => e.workload === workload) : [...this.recent];
  }
}
