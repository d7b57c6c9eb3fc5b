import type { AppsV1Api, V1OwnerReference, V1Pod } from "@kubernetes/client-node";

export interface WorkloadRef {
  apiVersion: string;
  kind: string;
  name: string;
}

const controllerOf = (refs: V1OwnerReference[] | undefined) => refs?.find((r) => r.controller);

/**
 * The workload a pod belongs to, through its controller ownerReferences: a ReplicaSet owned by a
 * Deployment resolves to the Deployment; other owners (StatefulSet, a custom resource) are the
 * workload themselves. ReplicaSet lookups are cached; a bare pod has no workload.
 */
export class OwnerResolver {
  private readonly replicaSets = new Map<string, WorkloadRef | undefined>();

  constructor(private readonly apps: AppsV1Api) {}

  async workloadOf(pod: V1Pod): Promise<WorkloadRef | undefined> {
    const owner = controllerOf(pod.metadata?.ownerReferences);
    if (!owner) return undefined;
    if (owner.kind !== "ReplicaSet" || owner.apiVersion !== "apps/v1") {
      return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name };
    }
    const namespace = pod.metadata?.namespace ?? "";
    const key = `${namespace}/${owner.name}`;
    if (!this.replicaSets.has(key)) {
      const rs = await this.apps.readNamespacedReplicaSet({ name: owner.name, namespace });
      const top = controllerOf(rs.metadata?.ownerReferences);
      this.replicaSets.set(
        key,
        top
          ? { apiVersion: top.apiVersion, kind: top.kind, name: top.name }
          : { apiVersion: "apps/v1", kind: "ReplicaSet", name: owner.name },
      );
      if (this.replicaSets.size > 10_000)
        this.replicaSets.delete(this.replicaSets.keys().next().value as string);
    }
    return this.replicaSets.get(key);
  }
}
