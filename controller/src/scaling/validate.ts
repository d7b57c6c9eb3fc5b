/**
 * Validation of a scaling policy as the autoscaling/v2 API server validates an HPA spec
 * (pkg/apis/autoscaling/validation: `validateMetrics`, `validateMetricTarget`, `validateBehavior`,
 * `validateScalingPolicy`), plus the Signal type and a stricter check that each target's `type` matches
 * the metric source and the field that is set. Each problem names its field: "spec.maxReplicas: …".
 */
import { parseQuantity } from "./quantity.js";

const INT32_MAX = 2147483647;
const MAX_STABILIZATION_WINDOW_SECONDS = 3600;
const MAX_PERIOD_SECONDS = 1800;

const TOP_FIELDS = ["minReplicas", "maxReplicas", "metrics", "behavior"];
/** ScalingPolicy fields that other validators own (target, predictive, burst headroom, schedules, rules). */
const FIELDS_OWNED_ELSEWHERE = [
  "scaleTargetRef",
  "targetRef",
  "predictive",
  "burstHeadroom",
  "schedules",
  "rules",
];

const SOURCE_FIELD: Record<string, string> = {
  Resource: "resource",
  ContainerResource: "containerResource",
  Pods: "pods",
  Object: "object",
  External: "external",
  Signal: "signal",
};
const SOURCE_FIELDS = Object.values(SOURCE_FIELD);
const TARGET_FIELD: Record<string, string> = {
  Utilization: "averageUtilization",
  Value: "value",
  AverageValue: "averageValue",
};

const QUALIFIED_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SIGNAL_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;

export interface ValidateOptions {
  /** More top-level fields to accept without checking (owned by the caller). */
  allowFields?: readonly string[];
}

type Fail = (path: string, message: string) => void;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** "a Signal metric", "an External metric". */
const a = (kind: string): string => `${/^[AEIOU]/.test(kind) ? "an" : "a"} ${kind}`;
const isSet = (v: unknown): boolean => v !== undefined && v !== null;
const show = (v: unknown): string =>
  typeof v === "string" ? JSON.stringify(v) : String(JSON.stringify(v) ?? v);

function unknownFields(
  obj: Record<string, unknown>,
  path: string,
  known: readonly string[],
  fail: Fail,
): void {
  for (const k of Object.keys(obj)) {
    if (!known.includes(k)) fail(`${path}.${k}`, `unknown field; expected one of ${known.join(", ")}`);
  }
}

function integer(v: unknown, path: string, min: number, max: number, fail: Fail): v is number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    fail(path, `must be an integer from ${min} to ${max}, got ${show(v)}`);
    return false;
  }
  return true;
}

/** The problem with a quantity field ("spec.x: must be a positive quantity …"), or none. */
export function quantityProblems(v: unknown, path: string, allowZero = false): string[] {
  const problems: string[] = [];
  quantity(v, path, allowZero, (p, message) => problems.push(`${p}: ${message}`));
  return problems;
}

function quantity(v: unknown, path: string, allowZero: boolean, fail: Fail): void {
  const kind = allowZero ? "a non-negative quantity" : "a positive quantity";
  let milli: number;
  try {
    milli = parseQuantity(v as string | number);
  } catch {
    fail(path, `must be ${kind} such as "500m", "4" or "2Gi", got ${show(v)}`);
    return;
  }
  if (allowZero ? milli < 0 : milli <= 0) fail(path, `must be ${kind}, got ${show(v)}`);
}

function name(v: unknown, path: string, fail: Fail, what = "a metric name"): void {
  if (typeof v !== "string" || v === "") fail(path, `must be ${what}`);
  else if (v === "." || v === ".." || v.includes("/") || v.includes("%")) {
    fail(path, `must be ${what} without "/" or "%", got ${show(v)}`);
  }
}

function selector(v: unknown, path: string, fail: Fail): void {
  if (!isSet(v)) return;
  if (!isObject(v)) {
    fail(path, "must be a label selector (matchLabels, matchExpressions)");
    return;
  }
  unknownFields(v, path, ["matchLabels", "matchExpressions"], fail);
  if (isSet(v.matchLabels)) {
    if (!isObject(v.matchLabels) || !Object.values(v.matchLabels).every((x) => typeof x === "string")) {
      fail(`${path}.matchLabels`, "must map label names to strings");
    }
  }
  if (isSet(v.matchExpressions) && !Array.isArray(v.matchExpressions)) {
    fail(`${path}.matchExpressions`, "must be a list");
  }
}

function metricIdentifier(v: unknown, path: string, fail: Fail): void {
  if (!isObject(v)) {
    fail(path, "is required: the metric's name and optional selector");
    return;
  }
  unknownFields(v, path, ["name", "selector"], fail);
  name(v.name, `${path}.name`, fail);
  selector(v.selector, `${path}.selector`, fail);
}

function target(v: unknown, path: string, allowed: readonly string[], kind: string, fail: Fail): void {
  if (!isObject(v)) {
    fail(path, `is required: type (${allowed.join(" or ")}) and its value`);
    return;
  }
  unknownFields(v, path, ["type", ...Object.values(TARGET_FIELD)], fail);
  const type = v.type;
  if (typeof type !== "string" || !(type in TARGET_FIELD)) {
    fail(`${path}.type`, `must be one of Utilization, Value, AverageValue, got ${show(type)}`);
  } else if (!allowed.includes(type)) {
    fail(`${path}.type`, `must be ${allowed.join(" or ")} for ${a(kind)} metric, got ${show(type)}`);
  } else {
    const field = TARGET_FIELD[type] as string;
    if (!isSet(v[field])) fail(`${path}.${field}`, `is required when type is ${type}`);
    for (const other of Object.values(TARGET_FIELD)) {
      if (other !== field && isSet(v[other]))
        fail(`${path}.${other}`, `must not be set when type is ${type}`);
    }
  }
  if (isSet(v.averageUtilization)) {
    const u = v.averageUtilization;
    if (typeof u !== "number" || !Number.isInteger(u) || u < 1 || u > INT32_MAX) {
      fail(`${path}.averageUtilization`, `must be a whole percent greater than 0, got ${show(u)}`);
    }
  }
  if (isSet(v.value)) quantity(v.value, `${path}.value`, false, fail);
  if (isSet(v.averageValue)) quantity(v.averageValue, `${path}.averageValue`, false, fail);
}

function metric(m: unknown, path: string, fail: Fail): void {
  if (!isObject(m)) {
    fail(path, "must be a mapping with a type");
    return;
  }
  const type = m.type;
  if (typeof type !== "string" || !(type in SOURCE_FIELD)) {
    fail(`${path}.type`, `must be one of ${Object.keys(SOURCE_FIELD).join(", ")}, got ${show(type)}`);
    return;
  }
  const field = SOURCE_FIELD[type] as string;
  unknownFields(m, path, ["type", ...SOURCE_FIELDS], fail);
  for (const other of SOURCE_FIELDS) {
    if (other !== field && isSet(m[other])) fail(`${path}.${other}`, `must not be set for ${a(type)} metric`);
  }
  const src = m[field];
  const p = `${path}.${field}`;
  if (!isObject(src)) {
    fail(p, `is required for ${a(type)} metric`);
    return;
  }
  switch (type) {
    case "Resource":
      unknownFields(src, p, ["name", "target"], fail);
      if (typeof src.name !== "string" || !QUALIFIED_NAME.test(src.name)) {
        fail(`${p}.name`, `must be a resource name such as cpu or memory, got ${show(src.name)}`);
      }
      target(src.target, `${p}.target`, ["Utilization", "AverageValue"], type, fail);
      break;
    case "ContainerResource":
      unknownFields(src, p, ["name", "container", "target"], fail);
      if (typeof src.name !== "string" || !QUALIFIED_NAME.test(src.name)) {
        fail(`${p}.name`, `must be a resource name such as cpu or memory, got ${show(src.name)}`);
      }
      if (typeof src.container !== "string" || !DNS_LABEL.test(src.container) || src.container.length > 63) {
        fail(`${p}.container`, `must be a container name (a DNS label), got ${show(src.container)}`);
      }
      target(src.target, `${p}.target`, ["Utilization", "AverageValue"], type, fail);
      break;
    case "Pods":
      unknownFields(src, p, ["metric", "target"], fail);
      metricIdentifier(src.metric, `${p}.metric`, fail);
      target(src.target, `${p}.target`, ["AverageValue"], type, fail);
      break;
    case "Object": {
      unknownFields(src, p, ["describedObject", "metric", "target"], fail);
      const d = src.describedObject;
      if (!isObject(d)) fail(`${p}.describedObject`, "is required: kind, name and optional apiVersion");
      else {
        unknownFields(d, `${p}.describedObject`, ["kind", "name", "apiVersion"], fail);
        if (typeof d.kind !== "string" || d.kind === "")
          fail(`${p}.describedObject.kind`, "must be a kind such as Ingress");
        name(d.name, `${p}.describedObject.name`, fail, "an object name");
        if (isSet(d.apiVersion) && typeof d.apiVersion !== "string") {
          fail(`${p}.describedObject.apiVersion`, "must be a string such as networking.k8s.io/v1");
        }
      }
      metricIdentifier(src.metric, `${p}.metric`, fail);
      target(src.target, `${p}.target`, ["Value", "AverageValue"], type, fail);
      break;
    }
    case "External":
      unknownFields(src, p, ["metric", "target"], fail);
      metricIdentifier(src.metric, `${p}.metric`, fail);
      target(src.target, `${p}.target`, ["Value", "AverageValue"], type, fail);
      break;
    case "Signal":
      unknownFields(src, p, ["name", "target"], fail);
      if (typeof src.name !== "string" || !SIGNAL_NAME.test(src.name)) {
        fail(
          `${p}.name`,
          `must be a signal name such as inflight, latency_p95_ms or a custom gauge (letters, digits, _ . : -), got ${show(src.name)}`,
        );
      }
      target(src.target, `${p}.target`, ["AverageValue"], type, fail);
      break;
  }
}

function scalingRules(v: unknown, path: string, fail: Fail): void {
  if (!isSet(v)) return;
  if (!isObject(v)) {
    fail(path, "must be a mapping of stabilizationWindowSeconds, selectPolicy, policies, tolerance");
    return;
  }
  unknownFields(v, path, ["stabilizationWindowSeconds", "selectPolicy", "policies", "tolerance"], fail);
  if (isSet(v.stabilizationWindowSeconds)) {
    integer(
      v.stabilizationWindowSeconds,
      `${path}.stabilizationWindowSeconds`,
      0,
      MAX_STABILIZATION_WINDOW_SECONDS,
      fail,
    );
  }
  if (isSet(v.selectPolicy) && !["Max", "Min", "Disabled"].includes(v.selectPolicy as string)) {
    fail(`${path}.selectPolicy`, `must be Max, Min or Disabled, got ${show(v.selectPolicy)}`);
  }
  if (isSet(v.policies)) {
    const policies = v.policies;
    if (!Array.isArray(policies)) fail(`${path}.policies`, "must be a list of {type, value, periodSeconds}");
    else if (policies.length === 0)
      fail(`${path}.policies`, "must list at least one policy (or leave it out for the defaults)");
    else {
      policies.forEach((pol, i) => {
        const pp = `${path}.policies[${i}]`;
        if (!isObject(pol)) {
          fail(pp, "must be a mapping of type, value and periodSeconds");
          return;
        }
        unknownFields(pol, pp, ["type", "value", "periodSeconds"], fail);
        if (pol.type !== "Pods" && pol.type !== "Percent")
          fail(`${pp}.type`, `must be Pods or Percent, got ${show(pol.type)}`);
        integer(pol.value, `${pp}.value`, 1, INT32_MAX, fail);
        integer(pol.periodSeconds, `${pp}.periodSeconds`, 1, MAX_PERIOD_SECONDS, fail);
      });
    }
  }
  if (isSet(v.tolerance)) quantity(v.tolerance, `${path}.tolerance`, true, fail);
}

/**
 * Every problem with `spec`, each as "field.path: message"; empty when the policy is usable. `path`
 * is the field path of `spec` itself in the caller's document.
 */
export function validatePolicySpec(spec: unknown, path = "spec", options: ValidateOptions = {}): string[] {
  const errors: string[] = [];
  const fail: Fail = (p, message) => {
    errors.push(`${p}: ${message}`);
  };
  if (!isObject(spec)) {
    fail(path, "must be a mapping with at least maxReplicas");
    return errors;
  }
  unknownFields(spec, path, [...TOP_FIELDS, ...FIELDS_OWNED_ELSEWHERE, ...(options.allowFields ?? [])], fail);

  const min = spec.minReplicas;
  const minOk = !isSet(min) || integer(min, `${path}.minReplicas`, 0, INT32_MAX, fail);
  const max = spec.maxReplicas;
  if (!isSet(max)) fail(`${path}.maxReplicas`, "is required");
  else if (
    integer(max, `${path}.maxReplicas`, 1, INT32_MAX, fail) &&
    minOk &&
    isSet(min) &&
    (min as number) > max
  ) {
    fail(`${path}.maxReplicas`, `must be greater than or equal to minReplicas (${min}), got ${max}`);
  }

  let scalesToZero = false;
  const metrics = spec.metrics;
  if (isSet(metrics)) {
    if (!Array.isArray(metrics)) fail(`${path}.metrics`, "must be a list of metrics");
    else {
      metrics.forEach((m, i) => {
        metric(m, `${path}.metrics[${i}]`, fail);
        if (isObject(m) && (m.type === "Object" || m.type === "External")) scalesToZero = true;
      });
    }
  }
  if (min === 0 && !scalesToZero) {
    fail(`${path}.minReplicas`, "may be 0 only with at least one Object or External metric (scale to zero)");
  }

  const behavior = spec.behavior;
  if (isSet(behavior)) {
    if (!isObject(behavior)) fail(`${path}.behavior`, "must be a mapping of scaleUp and scaleDown");
    else {
      unknownFields(behavior, `${path}.behavior`, ["scaleUp", "scaleDown"], fail);
      scalingRules(behavior.scaleUp, `${path}.behavior.scaleUp`, fail);
      scalingRules(behavior.scaleDown, `${path}.behavior.scaleDown`, fail);
    }
  }
  return errors;
}
