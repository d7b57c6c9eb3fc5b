import { ApiException, type CoordinationV1Api, type V1Lease, V1MicroTime } from "@kubernetes/client-node";
import type { Clock } from "../clock.js";

export interface LeaseElectionOptions {
  coordination: CoordinationV1Api;
  namespace: string;
  name: string;
  /** This controller's identity in the Lease's holderIdentity (pod name and a random suffix). */
  identity: string;
  clock: Clock;
  /** A holder that has not renewed for this long has lost the lease (default 15 s). */
  leaseDurationMs?: number;
  /** How often the holder renews and a standby looks (default 2 s). */
  retryPeriodMs?: number;
  /** The leader steps down when it could not renew for this long; below leaseDurationMs (default 10 s). */
  renewDeadlineMs?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  log: (line: string) => void;
}

/**
 * Leader election on a coordination.k8s.io Lease. Only the leader actuates. A standby takes over once
 * the lease record has not changed for a lease duration, measured on the standby's own clock from when
 * it last saw the record change (so clock skew between controllers does not matter). Writes carry the
 * resourceVersion, so two candidates never both win: the loser gets 409 Conflict.
 */
export class LeaseElection {
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  private stopped = false;
  /** The last record seen (holder and renew time as written) and when it was first seen. */
  private observed: { holder: string; renew: string; at: number } | undefined;
  private lastRenewed = 0;
  private readonly leaseMs: number;
  private readonly retryMs: number;
  private readonly deadlineMs: number;

  constructor(private readonly o: LeaseElectionOptions) {
    this.leaseMs = o.leaseDurationMs ?? 15_000;
    this.retryMs = o.retryPeriodMs ?? 2_000;
    this.deadlineMs = o.renewDeadlineMs ?? 10_000;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      await this.tryAcquireOrRenew().catch((e) => this.o.log(`lease: ${describe(e)}`));
      if (this.leading && this.o.clock.now() - this.lastRenewed > this.deadlineMs)
        this.stepDown("renew deadline passed");
      if (!this.stopped) this.timer = setTimeout(loop, this.retryMs);
    };
    void loop();
  }

  /** Stops electing; a leader releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.stepDown("stopping");
    try {
      const lease = await this.read();
      if (lease?.spec?.holderIdentity === this.o.identity) {
        lease.spec.holderIdentity = "";
        lease.spec.leaseDurationSeconds = 1;
        await this.o.coordination.replaceNamespacedLease({
          name: this.o.name,
          namespace: this.o.namespace,
          body: lease,
        });
      }
    } catch (e) {
      this.o.log(`lease: release failed: ${describe(e)}`);
    }
  }

  private async read(): Promise<V1Lease | undefined> {
    try {
      return await this.o.coordination.readNamespacedLease({
        name: this.o.name,
        namespace: this.o.namespace,
      });
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return undefined;
      throw e;
    }
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const now = this.o.clock.now();
    const stamp = new V1MicroTime(now);
    const leaseSeconds = Math.ceil(this.leaseMs / 1000);
    const lease = await this.read();
    if (!lease) {
      await this.write(() =>
        this.o.coordination.createNamespacedLease({
          namespace: this.o.namespace,
          body: {
            metadata: { name: this.o.name, namespace: this.o.namespace },
            spec: {
              holderIdentity: this.o.identity,
              leaseDurationSeconds: leaseSeconds,
              acquireTime: stamp,
              renewTime: stamp,
              leaseTransitions: 0,
            },
          },
        }),
      );
      return;
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    const renew = spec.renewTime ? new Date(spec.renewTime).toISOString() : "";
    if (!this.observed || this.observed.holder !== holder || this.observed.renew !== renew) {
      this.observed = { holder, renew, at: now };
    }
    const mine = holder === this.o.identity;
    const durationMs = (spec.leaseDurationSeconds ?? leaseSeconds) * 1000;
    const expired = holder === "" || now - this.observed.at > durationMs;
    if (!mine && !expired) {
      if (this.leading) this.stepDown(`lease held by ${holder}`);
      return;
    }
    lease.spec = {
      ...spec,
      holderIdentity: this.o.identity,
      leaseDurationSeconds: leaseSeconds,
      renewTime: stamp,
      acquireTime: mine ? spec.acquireTime : stamp,
      leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
    };
    await this.write(() =>
      this.o.coordination.replaceNamespacedLease({
        name: this.o.name,
        namespace: this.o.namespace,
        body: lease,
      }),
    );
  }

  /** Writes the lease; success means we hold it, 409 means another candidate won this round. */
  private async write(op: () => Promise<V1Lease>): Promise<void> {
    try {
      await op();
    } catch (e) {
      if (e instanceof ApiException && (e.code === 409 || e.code === 422)) {
        if (this.leading) this.stepDown("lost the lease to another candidate");
        return;
      }
      throw e;
    }
    this.lastRenewed = this.o.clock.now();
    if (!this.leading) {
      this.leading = true;
      this.o.log(`lease: ${this.o.identity} is the leader`);
      this.o.onStartedLeading();
    }
  }

  private stepDown(why: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.o.log(`lease: ${this.o.identity} stopped leading (${why})`);
    this.o.onStoppedLeading();
  }
}

function describe(e: unknown): string {
  if (e instanceof ApiException) return `HTTP ${e.code}: ${String(e.body).slice(0, 200)}`;
  return e instanceof Error ? e.message : String(e);
}
