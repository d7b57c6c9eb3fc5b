/**
 * The simulated workload: pods that start, become ready and serve a share of the offered load, on a
 * virtual clock of whole seconds. A fluid model: each second the ready pods serve up to their capacity;
 * what they cannot serve waits in a queue that clients give up on after `queueTimeoutSeconds`.
 */
import type { PodInfo } from "../scaling/types.js";

export interface WorkloadModelSettings {
  /** Requests per second one pod serves at 100 % CPU (the reference: 100). */
  capacityPerPod: number;
  /** CPU request per pod, millicores (the reference: 1000). */
  cpuRequestMilli: number;
  /** From creation to Running (the process starts). */
  startupSeconds: number;
  /** From Running to Ready (warm-up, readiness probe); start-up + readiness = 30 s in the reference. */
  readinessSeconds: number;
  /** A second violates the SLO when the offered load exceeds this share of the ready pods' capacity. */
  sloUtilization: number;
  /** Queued requests older than this are dropped (clients time out). */
  queueTimeoutSeconds: number;
  /** A second counts as queueing when a request arriving then would wait longer than this. */
  queueSloSeconds: number;
}

export const REFERENCE_WORKLOAD: Readonly<WorkloadModelSettings> = Object.freeze({
  capacityPerPod: 100,
  cpuRequestMilli: 1000,
  startupSeconds: 20,
  readinessSeconds: 10,
  sloUtilization: 0.9,
  queueTimeoutSeconds: 10,
  queueSloSeconds: 0.5,
});

interface SimPod {
  name: string;
  created: number;
  readyAt: number;
}

/** What one second looked like. */
export interface SecondOutcome {
  offered: number;
  served: number;
  dropped: number;
  /** Requests waiting at the end of the second. */
  queued: number;
  pods: number;
  ready: number;
  violating: boolean;
  /** A request arriving now would wait longer than `queueSloSeconds` behind the queue. */
  queueing: boolean;
  /** CPU of each ready pod, as a fraction of its request. */
  utilization: number;
}

export class WorkloadModel {
  readonly settings: WorkloadModelSettings;
  private pods: SimPod[] = [];
  private serial = 0;
  private queue = 0;
  /** The last second's outcome. */
  last: SecondOutcome | undefined;

  constructor(settings: WorkloadModelSettings, initialReplicas: number, now: number) {
    this.settings = settings;
    // The initial pods have been ready for long.
    for (let i = 0; i < initialReplicas; i++) this.pods.push(this.newPod(now - 3600));
  }

  private newPod(created: number): SimPod {
    const s = this.settings;
    return {
      name: `pod-${++this.serial}`,
      created,
      readyAt: created + s.startupSeconds + s.readinessSeconds,
    };
  }

  get replicas(): number {
    return this.pods.length;
  }

  readyCount(now: number): number {
    let n = 0;
    for (const p of this.pods) if (p.readyAt <= now) n++;
    return n;
  }

  /** Scales to `n` at second `now`: new pods start now; removals take pods that are not ready first, newest first. */
  setReplicas(n: number, now: number): void {
    while (this.pods.length < n) this.pods.push(this.newPod(now));
    if (this.pods.length > n) {
      const order = this.pods
        .map((p, i) => ({ p, i }))
        .sort((a, b) => {
          const ar = a.p.readyAt <= now ? 1 : 0;
          const br = b.p.readyAt <= now ? 1 : 0;
          return ar - br || b.p.created - a.p.created || b.i - a.i;
        });
      const gone = new Set(order.slice(0, this.pods.length - n).map((x) => x.p));
      this.pods = this.pods.filter((p) => !gone.has(p));
    }
  }

  /** Serves second `now` with `offered` req/s costing `cost` each (1 = nominal). */
  step(now: number, offered: number, cost = 1): SecondOutcome {
    const s = this.settings;
    const ready = this.readyCount(now);
    const capacity = (ready * s.capacityPerPod) / cost;
    const demand = offered + this.queue;
    const served = Math.min(demand, capacity);
    let queued = demand - served;
    // Clients give up on what would wait longer than the timeout at the current service rate.
    const keep = capacity * s.queueTimeoutSeconds;
    const dropped = queued > keep ? queued - keep : 0;
    queued -= dropped;
    this.queue = queued;
    const out: SecondOutcome = {
      offered,
      served,
      dropped,
      queued,
      pods: this.pods.length,
      ready,
      violating: offered > s.sloUtilization * capacity,
      queueing: queued > 0 && (capacity === 0 || queued / capacity > s.queueSloSeconds),
      utilization: capacity > 0 ? served / capacity : 0,
    };
    this.last = out;
    return out;
  }

  /** The pods as the scaling core sees them at `now` (epoch ms from `epochOf`). */
  podInfos(now: number, epochOf: (s: number) => number): PodInfo[] {
    const s = this.settings;
    return this.pods.map((p) => {
      const running = p.created + s.startupSeconds <= now;
      const ready = p.readyAt <= now;
      return {
        name: p.name,
        phase: running ? "Running" : "Pending",
        ready: running ? ready : false,
        startTime: epochOf(p.created),
        readyTransitionTime: epochOf(ready ? p.readyAt : p.created),
        containers: [{ name: "app", requests: { cpu: s.cpuRequestMilli } }],
      };
    });
  }

  /** The pods' names with their ready time and creation, for the metric feeds. */
  podTimes(): readonly { name: string; created: number; readyAt: number }[] {
    return this.pods;
  }

  /** Requests waiting now. */
  get backlog(): number {
    return this.queue;
  }
}
