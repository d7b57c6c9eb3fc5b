/** The replica counts of a workload as its actuator sees them. */
export interface ScaleState {
  /** Replicas asked for (the /scale subresource's spec.replicas). */
  specReplicas: number;
  /** Replicas that exist and are not being removed (status.replicas). */
  statusReplicas: number;
  /** Replicas that are ready. */
  readyReplicas: number;
}

/** Something whose replica count Ballast sets: a local process pool, a /scale subresource. */
export interface ScaleTarget {
  getScale(): ScaleState;
  /** Sets the replica count; scale-in drains the replicas it removes before stopping them. */
  setReplicas(replicas: number, reason: string): Promise<void>;
}
