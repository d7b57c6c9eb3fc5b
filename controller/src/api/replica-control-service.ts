import { randomUUID } from "node:crypto";
import type { Clock } from "../clock.js";
import { activeOverrides, OVERRIDE_KINDS, type Override, type OverrideKind } from "../scaling/overrides.js";
import type { Decision } from "../scaling/types.js";
import type { AuditLog } from "./audit-log.js";
import { ApiError, type Authenticator, type Authorizer, type Caller } from "./caller.js";
import type { RateLimiter } from "./rate-limiter.js";

/** A workload the API can steer: a ScalingPolicy and what the controller knows of it. */
export interface ControlledWorkload {
  namespace: string;
  name: string;
  targetRef: { apiVersion: string; kind: string; name: string };
  minReplicas: number;
  maxReplicas: number;
  specReplicas(): number | undefined;
  /** Recent decisions, oldest first. */
  decisions(): Decision[];
  overrides(): Override[];
  /** Replaces the overrides and persists them (ScalingPolicy status, or the local state file). */
  setOverrides(overrides: Override[]): Promise<void>;
  /** Names of the policy's scenario schedules. */
  scheduleNames(): string[];
  /** Switches a schedule on or off at run time; persisted like the overrides. */
  setScheduleSwitch(schedule: string, enabled: boolean): Promise<void>;
  /** Records an Event on the policy (kube mode). */
  event(type: "Normal" | "Warning", reason: string, message: string): Promise<void>;
}

export interface WorkloadDirectory {
  get(namespace: string, name: string): ControlledWorkload | undefined;
  /** False on a standby controller: changes must go to the leader. */
  canWrite(): boolean;
}

export interface OverrideRequest {
  kind: OverrideKind;
  replicas?: number;
  ttlSeconds: number;
  reason: string;
}

export interface ScaleView {
  namespace: string;
  name: string;
  targetRef: ControlledWorkload["targetRef"];
  minReplicas: number;
  maxReplicas: number;
  specReplicas: number | undefined;
  overrides: Override[];
  lastDecision: Decision | undefined;
}

const MAX_TTL_SECONDS = 7 * 24 * 3600;
const MAX_REPLICAS = 100_000;

/** Checks an override request; every problem names its field. */
export function checkOverrideRequest(body: unknown): OverrideRequest {
  const problems: string[] = [];
  const b = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
  if (!body || typeof body !== "object" || Array.isArray(body))
    throw new ApiError(400, "body: must be a JSON object");
  for (const k of Object.keys(b))
    if (!["kind", "replicas", "ttlSeconds", "reason"].includes(k))
      problems.push(`${k}: unknown field; expected kind, replicas, ttlSeconds, reason`);
  const kind = b.kind as OverrideKind;
  if (!OVERRIDE_KINDS.includes(kind))
    problems.push(`kind: must be one of ${OVERRIDE_KINDS.join(", ")}, got ${JSON.stringify(b.kind)}`);
  const counted = kind === "exact" || kind === "floor" || kind === "ceiling";
  if (
    counted &&
    !(Number.isInteger(b.replicas) && (b.replicas as number) >= 0 && (b.replicas as number) <= MAX_REPLICAS)
  )
    problems.push(
      `replicas: must be an integer from 0 to ${MAX_REPLICAS} for kind ${kind}, got ${JSON.stringify(b.replicas)}`,
    );
  if (!counted && b.replicas !== undefined && OVERRIDE_KINDS.includes(kind))
    problems.push(`replicas: not allowed for kind ${kind}`);
  if (
    !(
      Number.isInteger(b.ttlSeconds) &&
      (b.ttlSeconds as number) >= 1 &&
      (b.ttlSeconds as number) <= MAX_TTL_SECONDS
    )
  )
    problems.push(
      `ttlSeconds: must be an integer from 1 to ${MAX_TTL_SECONDS}, got ${JSON.stringify(b.ttlSeconds)}`,
    );
  if (typeof b.reason !== "string" || b.reason.trim() === "" || b.reason.length > 256)
    problems.push("reason: must be a non-empty string of at most 256 characters");
  if (problems.length > 0) throw new ApiError(400, problems.join("; "));
  const out: OverrideRequest = {
    kind,
    ttlSeconds: b.ttlSeconds as number,
    reason: (b.reason as string).trim(),
  };
  if (counted) out.replicas = b.replicas as number;
  return out;
}

/**
 * The replica-control API's semantics, shared by its HTTP/JSON and gRPC faces: authenticate, rate
 * limit, authorize against the target's scale subresource, change the overrides, audit (an Event on
 * the ScalingPolicy and a JSON line), answer.
 */
export class ReplicaControlService {
  constructor(
    private readonly o: {
      directory: WorkloadDirectory;
      authn: Authenticator;
      authz: Authorizer;
      audit: AuditLog;
      limiter: RateLimiter;
      clock: Clock;
      log: (line: string) => void;
    },
  ) {}

  /** The caller behind a bearer token; 401 without one or with a bad one, 429 over its rate. */
  async caller(token: string | undefined): Promise<Caller> {
    if (!token) throw new ApiError(401, "a bearer token is required (Authorization: Bearer …)");
    let caller: Caller | undefined;
    try {
      caller = await this.o.authn.authenticate(token);
    } catch (e) {
      throw new ApiError(503, `authentication is unavailable: ${(e as Error).message}`);
    }
    if (!caller) {
      this.o.log("api: refused a call with an invalid token");
      throw new ApiError(401, "the bearer token is not valid");
    }
    if (!this.o.limiter.take(caller.user, this.o.clock.now()))
      throw new ApiError(429, `${caller.user}: too many calls; slow down`);
    return caller;
  }

  private workload(namespace: string, name: string): ControlledWorkload {
    const w = this.o.directory.get(namespace, name);
    if (!w) throw new ApiError(404, `scalingpolicy ${namespace}/${name}: not found`);
    return w;
  }

  private async authorize(
    caller: Caller,
    w: ControlledWorkload,
    verb: "get" | "update",
    action: string,
  ): Promise<void> {
    let denied: string | undefined;
    try {
      denied = await this.o.authz.deny(caller, { verb, namespace: w.namespace, target: w.targetRef });
    } catch (e) {
      throw new ApiError(503, `authorization is unavailable: ${(e as Error).message}`);
    }
    if (denied) {
      if (verb === "update") {
        this.o.audit.write({
          time: new Date(this.o.clock.now()).toISOString(),
          user: caller.user,
          workload: `${w.namespace}/${w.name}`,
          action,
          outcome: `refused: ${denied}`,
        });
        await w.event("Warning", "OverrideRefused", `${action} by ${caller.user} refused: ${denied}`);
      }
      this.o.log(`api: ${denied}`);
      throw new ApiError(403, denied);
    }
  }

  async getScale(token: string | undefined, namespace: string, name: string): Promise<ScaleView> {
    const caller = await this.caller(token);
    const w = this.workload(namespace, name);
    await this.authorize(caller, w, "get", "get");
    return this.view(w);
  }

  private view(w: ControlledWorkload): ScaleView {
    const decisions = w.decisions();
    return {
      namespace: w.namespace,
      name: w.name,
      targetRef: w.targetRef,
      minReplicas: w.minReplicas,
      maxReplicas: w.maxReplicas,
      specReplicas: w.specReplicas(),
      overrides: activeOverrides(w.overrides(), this.o.clock.now()),
      lastDecision: decisions[decisions.length - 1],
    };
  }

  async listDecisions(
    token: string | undefined,
    namespace: string,
    name: string,
    limit = 100,
  ): Promise<Decision[]> {
    const caller = await this.caller(token);
    const w = this.workload(namespace, name);
    await this.authorize(caller, w, "get", "list decisions");
    return w.decisions().slice(-Math.max(1, Math.min(1000, limit)));
  }

  async auditTrail(token: string | undefined, namespace: string, name: string) {
    const caller = await this.caller(token);
    const w = this.workload(namespace, name);
    await this.authorize(caller, w, "get", "read audit");
    return this.o.audit.entries(`${namespace}/${name}`);
  }

  /** Sets a temporary exact count, floor, ceiling or freeze; returns it. */
  async setOverride(
    token: string | undefined,
    namespace: string,
    name: string,
    body: unknown,
  ): Promise<Override> {
    const caller = await this.caller(token);
    const req = checkOverrideRequest(body);
    const w = this.workload(namespace, name);
    const action = `set ${req.kind}${req.replicas !== undefined ? ` ${req.replicas}` : ""} for ${req.ttlSeconds} s`;
    await this.authorize(caller, w, "update", action);
    if (!this.o.directory.canWrite())
      throw new ApiError(503, "this controller is a standby; call the leader");
    const now = this.o.clock.now();
    const override: Override = {
      id: randomUUID(),
      kind: req.kind,
      expiresAt: now + req.ttlSeconds * 1000,
      reason: req.reason,
      setBy: caller.user,
      setAt: now,
    };
    if (req.replicas !== undefined) override.replicas = req.replicas;
    const before = activeOverrides(w.overrides(), now);
    await w.setOverrides([...before, override]);
    await this.record(caller, w, action, before, override, req.reason);
    return override;
  }

  /** Switches a scenario schedule on or off (e.g. a match moved, a sale cancelled). */
  async setSchedule(
    token: string | undefined,
    namespace: string,
    name: string,
    schedule: string,
    body: unknown,
  ): Promise<ScaleView> {
    const caller = await this.caller(token);
    const b = (body && typeof body === "object" ? body : {}) as { enabled?: unknown; reason?: unknown };
    const problems: string[] = [];
    if (typeof b.enabled !== "boolean") problems.push("enabled: must be true or false");
    if (typeof b.reason !== "string" || b.reason.trim() === "" || b.reason.length > 256)
      problems.push("reason: must be a non-empty string of at most 256 characters");
    if (problems.length > 0) throw new ApiError(400, problems.join("; "));
    const w = this.workload(namespace, name);
    if (!w.scheduleNames().includes(schedule))
      throw new ApiError(
        404,
        `schedule ${schedule}: not in ${namespace}/${name} (has ${w.scheduleNames().join(", ") || "none"})`,
      );
    const action = `switch schedule ${schedule} ${b.enabled ? "on" : "off"}`;
    await this.authorize(caller, w, "update", action);
    if (!this.o.directory.canWrite())
      throw new ApiError(503, "this controller is a standby; call the leader");
    await w.setScheduleSwitch(schedule, b.enabled as boolean);
    await this.record(caller, w, action, undefined, { schedule, enabled: b.enabled }, b.reason as string);
    return this.view(w);
  }

  async removeOverride(
    token: string | undefined,
    namespace: string,
    name: string,
    id: string,
  ): Promise<void> {
    const caller = await this.caller(token);
    const w = this.workload(namespace, name);
    await this.authorize(caller, w, "update", `remove override ${id}`);
    if (!this.o.directory.canWrite())
      throw new ApiError(503, "this controller is a standby; call the leader");
    const before = activeOverrides(w.overrides(), this.o.clock.now());
    const removed = before.find((o) => o.id === id);
    if (!removed) throw new ApiError(404, `override ${id}: not found`);
    await w.setOverrides(before.filter((o) => o.id !== id));
    await this.record(caller, w, `remove override ${id}`, removed, undefined, removed.reason);
  }

  private async record(
    caller: Caller,
    w: ControlledWorkload,
    action: string,
    from: unknown,
    to: unknown,
    reason: string,
  ) {
    this.o.audit.write({
      time: new Date(this.o.clock.now()).toISOString(),
      user: caller.user,
      workload: `${w.namespace}/${w.name}`,
      action,
      outcome: "allowed",
      from,
      to,
      reason,
    });
    await w.event("Normal", "OverrideSet", `${action} by ${caller.user}: ${reason}`);
    this.o.log(`api: ${caller.user}: ${action} on ${w.namespace}/${w.name} (${reason})`);
  }
}
