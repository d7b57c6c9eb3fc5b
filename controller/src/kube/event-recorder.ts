import { randomBytes } from "node:crypto";
import type { CoreV1Api } from "@kubernetes/client-node";
import { SCALING_POLICY, type ScalingPolicy } from "../store/scaling-policy.js";

export const COMPONENT = "ballast-controller";

/** Writes core/v1 Events about ScalingPolicies, as `kubectl describe` shows them. */
export class EventRecorder {
  constructor(
    private readonly core: CoreV1Api,
    private readonly instance: string,
    private readonly log: (line: string) => void,
  ) {}

  async record(
    policy: ScalingPolicy,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
  ): Promise<void> {
    const now = new Date();
    try {
      await this.core.createNamespacedEvent({
        namespace: policy.namespace,
        body: {
          metadata: { name: `${policy.name}.${randomBytes(8).toString("hex")}`, namespace: policy.namespace },
          involvedObject: {
            apiVersion: `${SCALING_POLICY.group}/${SCALING_POLICY.version}`,
            kind: SCALING_POLICY.kind,
            name: policy.name,
            namespace: policy.namespace,
            uid: policy.uid,
          },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: COMPONENT },
          reportingComponent: COMPONENT,
          reportingInstance: this.instance,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch (e) {
      // An Event is informative; failing to write one never stops scaling.
      this.log(`event ${policy.namespace}/${policy.name} ${reason}: ${(e as Error).message}`);
    }
  }
}
