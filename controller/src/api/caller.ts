/** Who is calling the replica-control API, once authenticated. */
export interface Caller {
  user: string;
  groups: string[];
  uid?: string;
}

/** Turns a bearer token into a caller; undefined when the token is not valid. */
export interface Authenticator {
  authenticate(token: string): Promise<Caller | undefined>;
}

/** What the caller wants to do to which workload's scale. */
export interface ScaleAccess {
  verb: "get" | "update";
  namespace: string;
  /** The policy's target: its scale subresource is what a change steers. */
  target: { apiVersion: string; kind: string; name: string };
}

export interface Authorizer {
  /** Resolves to undefined when allowed, or to the reason it is not. */
  deny(caller: Caller, access: ScaleAccess): Promise<string | undefined>;
}

/** Problems the API answers with a status code and a message naming the field. */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 429 | 503,
    message: string,
  ) {
    super(message);
  }
}
