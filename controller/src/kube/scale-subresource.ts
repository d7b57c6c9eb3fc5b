import {
  ApiException,
  type CustomObjectsApi,
  type KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import type { TargetRef } from "../store/scaling-policy.js";

/** A target's `/scale` subresource as read. */
export interface ScaleReading {
  specReplicas: number;
  statusReplicas: number;
  /** The label selector of the target's pods (status.selector), "" when the kind publishes none. */
  selector: string;
  resourceVersion: string;
}

/** Resolves a kind to its resource name through API discovery (cached by the client). */
class Discovery extends KubernetesObjectApi {
  async plural(apiVersion: string, kind: string): Promise<string | undefined> {
    return (await this.resource(apiVersion, kind))?.name;
  }
}

export class ScaleConflictError extends Error {}

/**
 * Reads and writes the `/scale` subresource of any kind that has one: Deployments, StatefulSets,
 * ReplicaSets and custom resources alike, found by discovery. Core-group kinds (ReplicationController)
 * are not served: their path has no group.
 */
export class ScaleSubresource {
  private readonly discovery: Discovery;

  constructor(
    kc: KubeConfig,
    private readonly custom: CustomObjectsApi,
  ) {
    this.discovery = kc.makeApiClient(Discovery);
  }

  /** The resource name (plural) of a kind, through discovery. */
  plural(apiVersion: string, kind: string): Promise<string | undefined> {
    return this.discovery.plural(apiVersion, kind);
  }

  private async coordinates(ref: TargetRef, namespace: string) {
    const [group, version] = ref.apiVersion.includes("/") ? ref.apiVersion.split("/") : ["", ref.apiVersion];
    if (!group) throw new Error(`targetRef.apiVersion ${ref.apiVersion}: core-group kinds are not supported`);
    const plural = await this.discovery.plural(ref.apiVersion, ref.kind);
    if (!plural) throw new Error(`targetRef: the API server serves no kind ${ref.kind} in ${ref.apiVersion}`);
    return { group: group as string, version: version as string, namespace, plural, name: ref.name };
  }

  async read(ref: TargetRef, namespace: string): Promise<ScaleReading> {
    const scale = (await this.custom.getNamespacedCustomObjectScale(
      await this.coordinates(ref, namespace),
    )) as {
      metadata?: { resourceVersion?: string };
      spec?: { replicas?: number };
      status?: { replicas?: number; selector?: string };
    };
    return {
      specReplicas: scale.spec?.replicas ?? 0,
      statusReplicas: scale.status?.replicas ?? 0,
      selector: scale.status?.selector ?? "",
      resourceVersion: scale.metadata?.resourceVersion ?? "",
    };
  }

  /**
   * Sets spec.replicas with a merge patch that carries the resourceVersion read. On a conflict it reads
   * again and retries while spec.replicas is still the value the decision was made from; when someone
   * else changed it meanwhile, it gives up (ScaleConflictError) and the next sync decides afresh.
   */
  async write(ref: TargetRef, namespace: string, replicas: number, basedOn: ScaleReading): Promise<void> {
    const at = await this.coordinates(ref, namespace);
    let resourceVersion = basedOn.resourceVersion;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.custom.patchNamespacedCustomObjectScale(
          { ...at, body: { metadata: { resourceVersion }, spec: { replicas } } },
          setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
        );
        return;
      } catch (e) {
        if (!(e instanceof ApiException && e.code === 409)) throw e;
        const fresh = await this.read(ref, namespace);
        if (fresh.specReplicas !== basedOn.specReplicas || attempt >= 4) {
          throw new ScaleConflictError(`spec.replicas changed meanwhile (now ${fresh.specReplicas})`);
        }
        resourceVersion = fresh.resourceVersion;
      }
    }
  }
}
