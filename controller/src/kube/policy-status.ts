import type { Override } from "../scaling/overrides.js";
import type { PredictiveStatus } from "../scaling/predictive.js";
import type { Condition, Decision } from "../scaling/types.js";

export interface StatusCondition extends Condition {
  lastTransitionTime: string;
}

/** An override as the ScalingPolicy status stores it (times as RFC 3339). */
export interface StatusOverride {
  id: string;
  kind: Override["kind"];
  replicas?: number;
  expiresAt: string;
  reason: string;
  setBy: string;
  setAt: string;
}

export function toStatusOverride(o: Override): StatusOverride {
  const s: StatusOverride = {
    id: o.id,
    kind: o.kind,
    expiresAt: new Date(o.expiresAt).toISOString(),
    reason: o.reason,
    setBy: o.setBy,
    setAt: new Date(o.setAt).toISOString(),
  };
  if (o.replicas !== undefined) s.replicas = o.replicas;
  return s;
}

/** Overrides read back from a status; entries that do not parse are dropped. */
export function fromStatusOverrides(list: unknown): Override[] {
  if (!Array.isArray(list)) return [];
  const out: Override[] = [];
  for (const x of list as Partial<StatusOverride>[]) {
    const expiresAt = Date.parse(x?.expiresAt ?? "");
    const setAt = Date.parse(x?.setAt ?? "");
    if (!x?.id || !x.kind || !Number.isFinite(expiresAt) || !Number.isFinite(setAt)) continue;
    const o: Override = {
      id: x.id,
      kind: x.kind,
      expiresAt,
      setAt,
      reason: x.reason ?? "",
      setBy: x.setBy ?? "",
    };
    if (typeof x.replicas === "number") o.replicas = x.replicas;
    out.push(o);
  }
  return out;
}

export interface PolicyStatus {
  observedGeneration: number;
  /** Overrides in force, set through the replica-control API; they survive a controller restart here. */
  overrides: StatusOverride[];
  currentReplicas: number;
  desiredReplicas: number;
  lastScaleTime?: string;
  /** Where the forecast floor stands: Active, Learning, NoData, PoorForecast (off by itself), ... */
  predictive?: { state: PredictiveStatus["state"]; message: string; mapePercent?: number } | null;
  conditions: StatusCondition[];
  lastDecision: {
    time: string;
    from: number;
    to: number;
    summary: string;
    stages: { stage: string; from: number; to: number; reason: string }[];
    proposals: { metric: string; replicas?: number; current?: string; target?: string; error?: string }[];
  };
}

/**
 * The ScalingPolicy status for a decision. A condition keeps its lastTransitionTime while its status
 * stays the same, as Kubernetes conditions do.
 */
export function policyStatus(
  decision: Decision,
  generation: number,
  previous: readonly StatusCondition[] | undefined,
  lastScaleTime: number | undefined,
  overrides: readonly Override[] = [],
  predictive?: PredictiveStatus,
): PolicyStatus {
  const at = new Date(decision.at).toISOString();
  const conditions = decision.conditions.map((c) => {
    const before = previous?.find((p) => p.type === c.type);
    return {
      ...c,
      lastTransitionTime: before && before.status === c.status ? before.lastTransitionTime : at,
    };
  });
  const status: PolicyStatus = {
    observedGeneration: generation,
    overrides: overrides.map(toStatusOverride),
    currentReplicas: decision.currentReplicas,
    desiredReplicas: decision.desiredReplicas,
    conditions,
    lastDecision: {
      time: at,
      from: decision.currentReplicas,
      to: decision.desiredReplicas,
      summary: decision.summary,
      stages: decision.stages.map((s) => ({ stage: s.stage, from: s.from, to: s.to, reason: s.reason })),
      proposals: decision.proposals.map((p) => {
        const out: PolicyStatus["lastDecision"]["proposals"][number] = { metric: p.metric };
        if (p.replicas !== undefined) out.replicas = p.replicas;
        if (p.current !== undefined) out.current = p.current;
        if (p.target !== undefined) out.target = p.target;
        if (p.error !== undefined) out.error = p.error;
        return out;
      }),
    },
  };
  if (lastScaleTime !== undefined) status.lastScaleTime = new Date(lastScaleTime).toISOString();
  // null, not absent: status is merge-patched, and a policy that dropped `predictive` must lose it.
  status.predictive = null;
  if (predictive) {
    status.predictive = { state: predictive.state, message: predictive.message };
    if (predictive.mape !== undefined) status.predictive.mapePercent = Math.round(predictive.mape * 10) / 10;
  }
  return status;
}

/** Status for a policy the controller refuses to act on. */
export function invalidSpecStatus(
  generation: number,
  problems: readonly string[],
  now: number,
): Partial<PolicyStatus> {
  const at = new Date(now).toISOString();
  return {
    observedGeneration: generation,
    conditions: [
      {
        type: "ScalingActive",
        status: "False",
        reason: "InvalidSpec",
        message: problems.join("; "),
        lastTransitionTime: at,
      },
    ],
  };
}
