import type { AuthorizationV1Api } from "@kubernetes/client-node";
import type { Authorizer, Caller, ScaleAccess } from "./caller.js";

/**
 * Kube mode: Kubernetes RBAC decides. Steering a workload needs `update` on its target's `scale`
 * subresource (what `kubectl scale` needs); reading needs `get` on the ScalingPolicy. Asked through a
 * SubjectAccessReview with the caller's user and groups.
 */
export class SubjectAccessReviewAuthorizer implements Authorizer {
  constructor(
    private readonly authz: AuthorizationV1Api,
    private readonly plural: (apiVersion: string, kind: string) => Promise<string | undefined>,
  ) {}

  async deny(caller: Caller, access: ScaleAccess): Promise<string | undefined> {
    let attributes: { group: string; resource: string; subresource?: string; name: string };
    if (access.verb === "update") {
      const resource = await this.plural(access.target.apiVersion, access.target.kind);
      if (!resource)
        return `the API server serves no kind ${access.target.kind} in ${access.target.apiVersion}`;
      const group = access.target.apiVersion.includes("/")
        ? (access.target.apiVersion.split("/")[0] as string)
        : "";
      attributes = { group, resource, subresource: "scale", name: access.target.name };
    } else {
      attributes = {
        group: "autoscaling.ballast.dev",
        resource: "scalingpolicies",
        name: access.target.name,
      };
    }
    const review = await this.authz.createSubjectAccessReview({
      body: {
        spec: {
          user: caller.user,
          groups: caller.groups,
          uid: caller.uid,
          resourceAttributes: { ...attributes, verb: access.verb, namespace: access.namespace },
        },
      },
    });
    if (review.status?.allowed) return undefined;
    const what = `${access.verb} ${attributes.resource}${attributes.subresource ? `/${attributes.subresource}` : ""} ${attributes.name} in ${access.namespace}`;
    return `${caller.user} may not ${what}${review.status?.reason ? ` (${review.status.reason})` : ""}`;
  }
}

/** Local mode: every authenticated caller may steer every workload. */
export const allowAuthenticated: Authorizer = { deny: async () => undefined };
