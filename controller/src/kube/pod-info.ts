import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { parseQuantity } from "../scaling/quantity.js";
import type { ContainerInfo, PodInfo, PodPhase } from "../scaling/types.js";

const PHASES: readonly PodPhase[] = ["Pending", "Running", "Succeeded", "Failed", "Unknown"];

function requests(c: V1Container): ContainerInfo["requests"] {
  const out: NonNullable<ContainerInfo["requests"]> = {};
  for (const [k, v] of Object.entries(c.resources?.requests ?? {})) {
    try {
      out[k] = parseQuantity(v);
    } catch {
      // An unparsable request counts as absent: Utilization metrics then report the missing request.
    }
  }
  return out;
}

function time(d: Date | string | undefined): number | undefined {
  if (d === undefined) return undefined;
  const t = new Date(d).getTime();
  return Number.isFinite(t) ? t : undefined;
}

/** A pod as the scaling core reads it: phase, readiness and its timing, requests per container. */
export function podInfo(pod: V1Pod): PodInfo {
  const ready = pod.status?.conditions?.find((c) => c.type === "Ready");
  const phase = pod.status?.phase as PodPhase | undefined;
  const info: PodInfo = {
    name: pod.metadata?.name ?? "",
    phase: phase && PHASES.includes(phase) ? phase : "Unknown",
    ready: ready ? ready.status === "True" : null,
    deleting: pod.metadata?.deletionTimestamp !== undefined && pod.metadata?.deletionTimestamp !== null,
    containers: [
      ...(pod.spec?.containers ?? []).map((c) => ({ name: c.name, requests: requests(c) })),
      ...(pod.spec?.initContainers ?? []).map((c) => ({
        name: c.name,
        requests: requests(c),
        init: true,
        restartPolicyAlways: c.restartPolicy === "Always",
      })),
    ],
  };
  const start = time(pod.status?.startTime);
  if (start !== undefined) info.startTime = start;
  const transition = time(ready?.lastTransitionTime);
  if (transition !== undefined) info.readyTransitionTime = transition;
  return info;
}
