/**
 * A pod's resource request as the utilization formula divides by (RC `calculateRequests`): the sum over
 * its containers and its sidecars (init containers with restartPolicy Always), or one named container.
 */
import type { PodInfo } from "./types.js";

/**
 * The request in milli-units, or an error message. With pod-level requests set and no container named,
 * the pod-level value wins (PodLevelResources).
 */
export function podRequest(pod: PodInfo, resource: string, container: string | undefined): number | string {
  if (!container) {
    const podLevel = pod.podRequests?.[resource];
    if (podLevel !== undefined && podLevel !== null) return podLevel;
  }
  const containers = pod.containers;
  let sum = 0;
  let found = false;
  if (containers) {
    for (let i = 0; i < containers.length; i++) {
      const c = containers[i] as (typeof containers)[number];
      if (c.init === true && c.restartPolicyAlways !== true) continue;
      if (container && c.name !== container) continue;
      found = true;
      const r = c.requests?.[resource];
      if (r === undefined || r === null) {
        return `missing request for ${resource} in container ${c.name} of Pod ${pod.name}`;
      }
      sum += r;
    }
  }
  if (container && !found) return `container ${container} not found in Pod ${pod.name}`;
  return sum;
}
