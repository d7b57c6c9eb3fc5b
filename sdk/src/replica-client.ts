import { readFileSync } from "node:fs";

/** Where the controller's replica-control API is, and who the service is. */
export interface ReplicaClientOptions {
  /** Base URL of the API; default `BALLAST_API_URL`. */
  url?: string;
  /** Bearer token; default the pod's ServiceAccount token file (or `BALLAST_API_TOKEN_FILE`). */
  token?: string;
  /** The ScalingPolicy to steer; default `BALLAST_POLICY_NAMESPACE`/`POD_NAMESPACE` and `BALLAST_POLICY`. */
  namespace?: string;
  policy?: string;
}

export interface HoldOptions {
  /** How long: "90s", "30m", "1h", "2d" or seconds as a number. */
  for: string | number;
  reason: string;
}

export interface ReplicaOverride {
  id: string;
  kind: "exact" | "floor" | "ceiling" | "freeze-up" | "freeze-down";
  replicas?: number;
  expiresAt: number;
  reason: string;
  setBy: string;
  setAt: number;
}

/** An answer of the API that is not a success; `status` is the HTTP status. */
export class ReplicaApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "90s", "30m", "1h", "2d" or a number of seconds → seconds; throws naming the bad value. */
export function durationSeconds(d: string | number): number {
  if (typeof d === "number" && Number.isInteger(d) && d > 0) return d;
  const m = typeof d === "string" ? /^(\d+)\s*([smhd])$/.exec(d.trim()) : null;
  if (!m)
    throw new RangeError(
      `for: expected a duration such as "90s", "30m", "1h" or "2d", got ${JSON.stringify(d)}`,
    );
  return Number(m[1]) * (UNITS[m[2] as string] as number);
}

const SA_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/**
 * A small typed client of Ballast's replica-control API, for a service that steers its own capacity:
 * `await replicas.hold(40, { for: "1h", reason: "flash sale at 20:00" })`.
 */
export class ReplicaClient {
  private readonly url: string;
  private readonly path: string;

  constructor(private readonly options: ReplicaClientOptions = {}) {
    const url = options.url ?? process.env.BALLAST_API_URL;
    const ns = options.namespace ?? process.env.BALLAST_POLICY_NAMESPACE ?? process.env.POD_NAMESPACE;
    const policy = options.policy ?? process.env.BALLAST_POLICY;
    if (!url) throw new RangeError("url: required (or set BALLAST_API_URL)");
    if (!ns) throw new RangeError("namespace: required (or set POD_NAMESPACE)");
    if (!policy) throw new RangeError("policy: required (or set BALLAST_POLICY)");
    this.url = url.replace(/\/$/, "");
    this.path = `/v1/namespaces/${encodeURIComponent(ns)}/scalingpolicies/${encodeURIComponent(policy)}`;
  }

  private token(): string {
    // Read per call: projected ServiceAccount tokens are rotated on disk.
    return this.options.token ?? readFileSync(process.env.BALLAST_API_TOKEN_FILE ?? SA_TOKEN, "utf8").trim();
  }

  private async call<T>(method: string, suffix: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}${this.path}${suffix}`, {
      method,
      headers: { authorization: `Bearer ${this.token()}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const value = text ? JSON.parse(text) : undefined;
    if (!res.ok) throw new ReplicaApiError(res.status, value?.error ?? `HTTP ${res.status}`);
    return value as T;
  }

  private set(
    kind: ReplicaOverride["kind"],
    replicas: number | undefined,
    o: HoldOptions,
  ): Promise<ReplicaOverride> {
    return this.call("POST", "/overrides", {
      kind,
      replicas,
      ttlSeconds: durationSeconds(o.for),
      reason: o.reason,
    });
  }

  /** Run exactly `replicas` (within the policy's bounds) for a while. */
  hold(replicas: number, o: HoldOptions): Promise<ReplicaOverride> {
    return this.set("exact", replicas, o);
  }

  /** Never fewer than `replicas` for a while; the policy may still go higher. */
  floor(replicas: number, o: HoldOptions): Promise<ReplicaOverride> {
    return this.set("floor", replicas, o);
  }

  /** Never more than `replicas` for a while. */
  ceiling(replicas: number, o: HoldOptions): Promise<ReplicaOverride> {
    return this.set("ceiling", replicas, o);
  }

  /** No scale-up (or scale-down) for a while. */
  freeze(direction: "up" | "down", o: HoldOptions): Promise<ReplicaOverride> {
    return this.set(direction === "up" ? "freeze-up" : "freeze-down", undefined, o);
  }

  /** Ends an override before it expires. */
  async release(override: ReplicaOverride | string): Promise<void> {
    await this.call("DELETE", `/overrides/${typeof override === "string" ? override : override.id}`);
  }

  /** The workload's scale, bounds, overrides in force and last decision. */
  scale(): Promise<{
    specReplicas?: number;
    minReplicas: number;
    maxReplicas: number;
    overrides: ReplicaOverride[];
  }> {
    return this.call("GET", "");
  }
}
