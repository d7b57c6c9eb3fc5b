import { mappingFields } from "./field-check.js";
import type { PolicyRules, RecommendationStage, StepLimit } from "./types.js";

/** Checks rules; each problem names its field ("spec.rules.maxStepUp.percent: …"). */
export function validateRules(raw: unknown, path = "spec.rules"): string[] {
  const problems: string[] = [];
  const known = ["forbidScaleUp", "forbidScaleDown", "maxStepUp", "maxStepDown", "minReadyReplicas"];
  const r = mappingFields(raw, path, known, problems);
  if (!r) return problems;
  for (const k of ["forbidScaleUp", "forbidScaleDown"]) {
    const f = r[k] as { until?: unknown } | undefined;
    if (f === undefined) continue;
    if (!f || typeof f !== "object") problems.push(`${path}.${k}: must be a mapping ({} forbids for good)`);
    else if (f.until !== undefined && !(typeof f.until === "string" && Number.isFinite(Date.parse(f.until))))
      problems.push(`${path}.${k}.until: not an RFC 3339 time`);
  }
  for (const k of ["maxStepUp", "maxStepDown"]) {
    const s = r[k] as StepLimit | undefined;
    if (s === undefined) continue;
    if (!s || typeof s !== "object") {
      problems.push(`${path}.${k}: must be a mapping`);
      continue;
    }
    if (s.replicas === undefined && s.percent === undefined)
      problems.push(`${path}.${k}: needs replicas or percent`);
    if (s.replicas !== undefined && !(Number.isInteger(s.replicas) && s.replicas >= 1))
      problems.push(`${path}.${k}.replicas: must be an integer ≥ 1`);
    if (s.percent !== undefined && !(typeof s.percent === "number" && s.percent > 0 && s.percent <= 1000))
      problems.push(`${path}.${k}.percent: must be a number above 0 and at most 1000`);
  }
  if (
    r.minReadyReplicas !== undefined &&
    !(Number.isInteger(r.minReadyReplicas) && (r.minReadyReplicas as number) >= 0)
  )
    problems.push(`${path}.minReadyReplicas: must be an integer ≥ 0`);
  return problems;
}

function forbidden(f: { until?: string } | undefined, now: number): boolean {
  return f !== undefined && (f.until === undefined || now < Date.parse(f.until));
}

/** The largest step a limit allows from `current`: the larger of its count and its percent. */
function stepAllowed(limit: StepLimit, current: number): number {
  const byCount = limit.replicas ?? 0;
  const byPercent = limit.percent !== undefined ? Math.ceil((current * limit.percent) / 100) : 0;
  return Math.max(1, byCount, byPercent);
}

/**
 * The policy's rules as a pipeline stage, after the metrics and schedules, before the API's overrides
 * and behavior. In order: the guaranteed ready minimum raises the count by the replicas that are not
 * ready; forbidden directions hold the current count; step limits bound the move from it.
 */
export function rulesStage(rules: PolicyRules | undefined): RecommendationStage {
  return {
    name: "rules",
    apply(replicas, input, now) {
      if (!rules) return { replicas, reason: "" };
      const current = input.scale.specReplicas;
      let r = replicas;
      const why: string[] = [];
      if (rules.minReadyReplicas !== undefined) {
        const live = input.pods.filter((p) => !p.deleting);
        const ready = live.filter((p) => p.ready === true).length;
        // Unready replicas are assumed to stay so: enough replicas that the ready ones reach the minimum.
        const need = rules.minReadyReplicas + (live.length - ready);
        if (r < need) {
          why.push(`${ready} ready of the ${rules.minReadyReplicas} guaranteed: at least ${need}`);
          r = need;
        }
      }
      if (r > current && forbidden(rules.forbidScaleUp, now)) {
        why.push(
          `scale-up forbidden${rules.forbidScaleUp?.until ? ` until ${rules.forbidScaleUp.until}` : ""}`,
        );
        r = current;
      }
      if (r < current && forbidden(rules.forbidScaleDown, now)) {
        why.push(
          `scale-down forbidden${rules.forbidScaleDown?.until ? ` until ${rules.forbidScaleDown.until}` : ""}`,
        );
        r = current;
      }
      if (r > current && rules.maxStepUp) {
        const top = current + stepAllowed(rules.maxStepUp, current);
        if (r > top) {
          why.push(`step up limited to ${top - current}`);
          r = top;
        }
      }
      if (r < current && rules.maxStepDown) {
        const bottom = current - stepAllowed(rules.maxStepDown, current);
        if (r < bottom) {
          why.push(`step down limited to ${current - bottom}`);
          r = bottom;
        }
      }
      return { replicas: r, reason: why.join("; ") };
    },
  };
}
