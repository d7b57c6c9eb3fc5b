/**
 * Replica proposals from per-pod samples (RC `GetResourceReplicas`, `calcPlainMetricReplicas`; the
 * utilization formula from metrics/utilization.go). One pass over the pods groups them and sums what the
 * formulas need; a second, arithmetic-only step fills in missing and unready pods the way upstream does,
 * so that pods without data can soften a scale-down but never cause one.
 */

import type { ReadinessTiming } from "./pod-grouping.js";
import * as grouping from "./pod-grouping.js";
import * as requests from "./pod-requests.js";
import { ceilReplicas } from "./replica-count.js";
import { isWithinTolerance, type Tolerances } from "./tolerance.js";
import type { PodInfo, PodSample } from "./types.js";

export interface PodCounts {
  ready: number;
  unready: number;
  missing: number;
  ignored: number;
}

export interface PodMetricContext {
  now: number;
  timing: ReadinessTiming;
  tolerances: Tolerances;
}

export interface UtilizationResult {
  replicas: number;
  /** Percent of requests, truncated to an integer (the ratio uses this truncated value). */
  utilization: number;
  /** Mean usage per pod, milli-units. */
  rawValue: number;
  ratio: number;
  pods: PodCounts;
  error?: undefined;
}

export interface PlainResult {
  replicas: number;
  /** Mean value per pod, truncated to a whole milli-unit. */
  usage: number;
  ratio: number;
  pods: PodCounts;
  error?: undefined;
}

export interface CalcError {
  error: string;
}

// Used once per pod: bound locally so that a transpiled (CommonJS) build, as under tsx, does not pay an
// export getter on every use.
const { groupPod, READY, UNREADY, MISSING, IGNORED } = grouping;
const { podRequest } = requests;

export const NO_PODS = "no pods returned by selector while calculating replica count";
export const NO_READY_METRICS = "did not receive metrics for targeted pods (pods might be unready)";

/**
 * The sample that counts for `pod`: undefined when absent, not a finite number, or, for a container
 * metric, lacking that container. A garbled sample is missing data, never a reason to scale down.
 */
function sampleOf(
  samples: ReadonlyMap<string, PodSample>,
  name: string,
  container: string | undefined,
): PodSample | undefined {
  const s = samples.get(name);
  if (s === undefined) return undefined;
  if (container === undefined) return Number.isFinite(s.value) ? s : undefined;
  return Number.isFinite(s.containers?.[container]) ? s : undefined;
}

function sampleValue(s: PodSample, container: string | undefined): number {
  return container === undefined ? s.value : (s.containers?.[container] as number);
}

/**
 * Samples for pods outside the pod list ("superfluous") stay in upstream's metric map: they count in
 * len(metrics) and, for plain metrics, in the average. Only looked for when the map is larger than the
 * pods that matched it.
 */
function superfluous(
  samples: ReadonlyMap<string, PodSample>,
  pods: readonly PodInfo[],
  container: string | undefined,
  matched: number,
): { count: number; sum: number } {
  if (container === undefined && samples.size <= matched) return { count: 0, sum: 0 };
  const names = new Set<string>();
  for (const p of pods) names.add(p.name);
  let count = 0;
  let sum = 0;
  for (const [name, s] of samples) {
    if (names.has(name) || !Number.isFinite(container === undefined ? s.value : s.containers?.[container]))
      continue;
    count++;
    sum += sampleValue(s, container);
  }
  return { count, sum };
}

/** floor for the non-negative case, trunc toward zero like Go's integer division otherwise. */
const idiv = (a: number, b: number): number => Math.trunc(a / b);

/**
 * Resource or ContainerResource metric with a Utilization target (percent of requests).
 * `samples` must be non-empty; the caller turns an empty fetch into upstream's fetch error.
 */
export function utilizationReplicas(
  currentReplicas: number,
  targetUtilization: number,
  resource: string,
  container: string | undefined,
  pods: readonly PodInfo[],
  samples: ReadonlyMap<string, PodSample>,
  ctx: PodMetricContext,
): UtilizationResult | CalcError {
  if (pods.length === 0) return { error: NO_PODS };
  const cpu = resource === "cpu";
  const fallbackPercent = Math.max(100, targetUtilization);
  let requestError: string | undefined;
  let ready = 0;
  let unready = 0;
  let missing = 0;
  let ignored = 0;
  let matched = 0;
  let usageSum = 0;
  let requestSum = 0;
  let unreadyRequests = 0;
  let missingRequests = 0;
  let missingDownFill = 0;
  for (let i = 0; i < pods.length; i++) {
    const pod = pods[i] as PodInfo;
    // Requests are read for every listed pod, ignored ones included, as upstream does.
    const request = podRequest(pod, resource, container);
    if (typeof request === "string") {
      requestError ??= request;
      continue;
    }
    const sample = sampleOf(samples, pod.name, container);
    if (sample !== undefined) matched++;
    switch (groupPod(pod, sample, cpu, ctx.now, ctx.timing)) {
      case READY:
        ready++;
        usageSum += sampleValue(sample as PodSample, container);
        requestSum += request;
        break;
      case UNREADY:
        unready++;
        unreadyRequests += request;
        break;
      case MISSING:
        missing++;
        missingRequests += request;
        missingDownFill += idiv(request * fallbackPercent, 100);
        break;
      case IGNORED:
        ignored++;
        break;
    }
  }
  if (requestError !== undefined) return { error: requestError };
  const extra = superfluous(samples, pods, container, matched).count;
  const counted = ready + extra;
  if (counted === 0) return { error: NO_READY_METRICS };
  // Superfluous samples have no request, so they drop out of the utilization itself.
  if (requestSum === 0) return { error: "no metrics returned matched known pods" };
  const utilization = Math.min(idiv(usageSum * 100, requestSum), 2147483647);
  const rawValue = idiv(usageSum, ready);
  const ratio = utilization / targetUtilization;
  const pods_ = { ready, unready, missing, ignored };

  const scaleUpWithUnready = unready > 0 && ratio > 1;
  if (!scaleUpWithUnready && missing === 0) {
    const replicas = isWithinTolerance(ratio, ctx.tolerances) ? currentReplicas : ceilReplicas(ratio * ready);
    return { replicas, utilization, rawValue, ratio, pods: pods_ };
  }

  let total = usageSum;
  let requests = requestSum;
  let entries = counted;
  if (missing > 0) {
    if (ratio < 1) {
      // Scale-down: a pod without data is assumed busy (max(100%, target) of its request).
      total += missingDownFill;
      requests += missingRequests;
      entries += missing;
    } else if (ratio > 1) {
      // Scale-up: a pod without data is assumed idle.
      requests += missingRequests;
      entries += missing;
    }
  }
  if (scaleUpWithUnready) {
    requests += unreadyRequests;
    entries += unready;
  }
  const newRatio = idiv(total * 100, requests) / targetUtilization;
  const replicas = settle(currentReplicas, ratio, newRatio, entries, ctx.tolerances);
  return { replicas, utilization, rawValue, ratio, pods: pods_ };
}

/**
 * Pods metric, Signal metric, or Resource metric with an AverageValue target: the mean per-pod value
 * against a per-pod target. Readiness rules apply only when `resource` is "cpu".
 */
export function plainMetricReplicas(
  currentReplicas: number,
  targetPerPod: number,
  resource: string | undefined,
  container: string | undefined,
  pods: readonly PodInfo[],
  samples: ReadonlyMap<string, PodSample>,
  ctx: PodMetricContext,
): PlainResult | CalcError {
  if (pods.length === 0) return { error: NO_PODS };
  const cpu = resource === "cpu";
  let ready = 0;
  let unready = 0;
  let missing = 0;
  let ignored = 0;
  let matched = 0;
  let sum = 0;
  for (let i = 0; i < pods.length; i++) {
    const pod = pods[i] as PodInfo;
    const sample = sampleOf(samples, pod.name, container);
    if (sample !== undefined) matched++;
    switch (groupPod(pod, sample, cpu, ctx.now, ctx.timing)) {
      case READY:
        ready++;
        sum += sampleValue(sample as PodSample, container);
        break;
      case UNREADY:
        unready++;
        break;
      case MISSING:
        missing++;
        break;
      case IGNORED:
        ignored++;
        break;
    }
  }
  const extra = superfluous(samples, pods, container, matched);
  const counted = ready + extra.count;
  if (counted === 0) return { error: NO_READY_METRICS };
  const total0 = sum + extra.sum;
  const usage = idiv(total0, counted);
  const ratio = usage / targetPerPod;
  const pods_ = { ready, unready, missing, ignored };

  const scaleUpWithUnready = unready > 0 && ratio > 1;
  if (!scaleUpWithUnready && missing === 0) {
    const replicas = isWithinTolerance(ratio, ctx.tolerances) ? currentReplicas : ceilReplicas(ratio * ready);
    return { replicas, usage, ratio, pods: pods_ };
  }

  let total = total0;
  let entries = counted;
  if (missing > 0) {
    if (ratio < 1) {
      // Scale-down: a pod without data is assumed to sit exactly at the target.
      total += missing * targetPerPod;
      entries += missing;
    } else if (ratio > 1) {
      entries += missing; // scale-up: assumed idle
    }
  }
  if (scaleUpWithUnready) entries += unready;
  const newRatio = idiv(total, entries) / targetPerPod;
  const replicas = settle(currentReplicas, ratio, newRatio, entries, ctx.tolerances);
  return { replicas, usage, ratio, pods: pods_ };
}

/**
 * After filling in gaps: stay put when the new ratio is within tolerance, when filling flipped the
 * direction, or when the rounded count would move against the ratio.
 */
function settle(current: number, ratio: number, newRatio: number, entries: number, t: Tolerances): number {
  if (isWithinTolerance(newRatio, t) || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1)) {
    return current;
  }
  const replicas = ceilReplicas(newRatio * entries);
  if ((newRatio < 1 && replicas > current) || (newRatio > 1 && replicas < current)) return current;
  return replicas;
}
