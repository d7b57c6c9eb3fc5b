import type { AgentHello, Command, PodIdentity, PodReport } from "@ballast/proto";

/** A pod is missing once it has been silent for this many of its report intervals. */
export const STALE_AFTER_INTERVALS = 3;
/** Reports kept per pod (the newest), for windows and the dashboard. */
export const REPORTS_KEPT = 60;

/** What the controller knows of one pod's agent. */
export interface PodRecord {
  key: string;
  identity: PodIdentity;
  agentVersion: string;
  reportIntervalMs: number;
  connectedAt: number;
  /** When the last report arrived (controller clock). */
  lastSeen: number;
  /** Raw reports as received, newest last; at most REPORTS_KEPT. Each app window appears once. */
  reports: PodReport[];
  /**
   * The newest report with each app's latest window filled in: a report made before an app's next
   * window arrived carries no load for it, and the previous window still describes that app best.
   */
  current: PodReport | undefined;
  connected: boolean;
  send: (command: Command) => boolean;
}

export function podKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/**
 * The latest reports of every pod whose agent has connected. A pod silent for STALE_AFTER_INTERVALS
 * report intervals is stale: the scaling core then treats it as missing, never as idle.
 */
export class PodRegistry {
  private readonly pods = new Map<string, PodRecord>();

  /** Registers an agent's stream; a reconnect of the same pod replaces the previous stream. */
  connect(hello: AgentHello, now: number, send: (command: Command) => boolean): PodRecord {
    const identity = hello.pod as PodIdentity;
    const key = podKey(identity.namespace, identity.podName);
    const previous = this.pods.get(key);
    const record: PodRecord = {
      key,
      identity,
      agentVersion: hello.agentVersion,
      reportIntervalMs: hello.reportIntervalMs,
      connectedAt: now,
      lastSeen: previous?.lastSeen ?? now,
      reports: previous?.reports ?? [],
      current: previous?.current,
      connected: true,
      send,
    };
    this.pods.set(key, record);
    return record;
  }

  disconnect(record: PodRecord): void {
    // Keep the record (its reports age into staleness); only mark the stream gone.
    if (this.pods.get(record.key) === record) record.connected = false;
  }

  addReport(record: PodRecord, report: PodReport, now: number): void {
    record.lastSeen = now;
    const before = new Map((record.current?.apps ?? []).map((a) => [a.pid, a.load]));
    record.current = {
      ...report,
      apps: report.apps.map((a) => (a.load ? a : { ...a, load: before.get(a.pid) })),
    };
    record.reports.push(report);
    if (record.reports.length > REPORTS_KEPT) record.reports.splice(0, record.reports.length - REPORTS_KEPT);
  }

  get(namespace: string, name: string): PodRecord | undefined {
    return this.pods.get(podKey(namespace, name));
  }

  list(): PodRecord[] {
    return [...this.pods.values()];
  }

  forget(namespace: string, name: string): void {
    this.pods.delete(podKey(namespace, name));
  }

  /** The pod's newest report, or undefined when it has none or has gone stale. */
  freshReport(record: PodRecord, now: number): PodReport | undefined {
    if (now - record.lastSeen > STALE_AFTER_INTERVALS * record.reportIntervalMs) return undefined;
    return record.current;
  }

  /** Sends a command to the pod's agent; false when no stream is open. */
  send(namespace: string, name: string, command: Command): boolean {
    const record = this.pods.get(podKey(namespace, name));
    return record?.connected ? record.send(command) : false;
  }
}
