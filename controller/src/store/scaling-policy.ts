import type { ScalingPolicySpec } from "../scaling/types.js";
import { validateScalingPolicy } from "../scaling/validate-policy.js";

/** The ScalingPolicy custom resource (autoscaling.ballast.dev/v1alpha1). */
export const SCALING_POLICY = {
  group: "autoscaling.ballast.dev",
  version: "v1alpha1",
  plural: "scalingpolicies",
  kind: "ScalingPolicy",
} as const;

/** What the policy scales: any kind with a `/scale` subresource. */
export interface TargetRef {
  apiVersion: string;
  kind: string;
  name: string;
}

/** A ScalingPolicy as the controller works with it, after validation. */
export interface ScalingPolicy {
  namespace: string;
  name: string;
  uid: string;
  generation: number;
  targetRef: TargetRef;
  spec: ScalingPolicySpec;
}

export type ParsedPolicy =
  | { policy: ScalingPolicy; problems?: undefined }
  | { policy?: undefined; problems: string[] };

interface RawObject {
  metadata?: { namespace?: string; name?: string; uid?: string; generation?: number };
  spec?: Record<string, unknown>;
}

/**
 * Reads a ScalingPolicy object. The API server's schema refuses most bad specs; this check is the same
 * one local mode uses, so an object written before a schema change, or one the schema cannot express,
 * is reported (condition ScalingActive=False, reason InvalidSpec) and never acted on.
 */
export function parseScalingPolicy(obj: RawObject): ParsedPolicy {
  const spec = obj.spec;
  const problems: string[] = [];
  const namespace = obj.metadata?.namespace ?? "";
  const name = obj.metadata?.name ?? "";
  if (!spec || typeof spec !== "object") return { problems: ["spec: required"] };
  const ref = spec.targetRef as Partial<TargetRef> | undefined;
  if (!ref || typeof ref !== "object") problems.push("spec.targetRef: required");
  else
    for (const f of ["apiVersion", "kind", "name"] as const)
      if (typeof ref[f] !== "string" || ref[f] === "") problems.push(`spec.targetRef.${f}: required`);
  const { targetRef: _ref, ...policySpec } = spec;
  problems.push(...validateScalingPolicy(policySpec, "spec"));
  if (problems.length > 0) return { problems };
  return {
    policy: {
      namespace,
      name,
      uid: obj.metadata?.uid ?? "",
      generation: obj.metadata?.generation ?? 0,
      targetRef: ref as TargetRef,
      spec: policySpec as unknown as ScalingPolicySpec,
    },
  };
}

export function policyKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
