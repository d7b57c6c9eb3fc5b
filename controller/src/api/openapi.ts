/** OpenAPI 3.0 description of the replica-control HTTP API, served at /openapi.json. */
const policyPath = "/v1/namespaces/{namespace}/scalingpolicies/{name}";
const params = [
  { name: "namespace", in: "path", required: true, schema: { type: "string" } },
  { name: "name", in: "path", required: true, schema: { type: "string" }, description: "the ScalingPolicy" },
];
const errors = Object.fromEntries(
  [
    ["400", "invalid input; the message names the field"],
    ["401", "no bearer token, or an invalid one"],
    ["403", "RBAC does not allow the caller"],
    ["404", "no such ScalingPolicy or override"],
    ["429", "the caller is over its rate"],
    ["503", "this controller is a standby, or authentication is unavailable"],
  ].map(([code, description]) => [
    code,
    { description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
  ]),
);

export const openApiDocument = {
  openapi: "3.0.3",
  info: {
    title: "Ballast replica control",
    version: "v1",
    description:
      "Steer a workload's capacity: temporary exact counts, floors, ceilings and freezes with a TTL and a reason. " +
      "Authenticate with a bearer token (a ServiceAccount token in kube mode); changing a workload needs `update` on its target's `scale` subresource.",
  },
  security: [{ bearer: [] }],
  paths: {
    [policyPath]: {
      get: {
        summary: "The workload's scale, bounds, active overrides and last decision",
        parameters: params,
        responses: { "200": { description: "the scale" }, ...errors },
      },
    },
    [`${policyPath}/decisions`]: {
      get: {
        summary: "Recent decisions, oldest first",
        parameters: [
          ...params,
          {
            name: "limit",
            in: "query",
            schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
          },
        ],
        responses: { "200": { description: "decisions" }, ...errors },
      },
    },
    [`${policyPath}/overrides`]: {
      post: {
        summary: "Set an override",
        parameters: params,
        requestBody: {
          required: true,
          content: { "application/json": { schema: { $ref: "#/components/schemas/OverrideRequest" } } },
        },
        responses: { "201": { description: "the override, with its id and expiry" }, ...errors },
      },
    },
    [`${policyPath}/overrides/{id}`]: {
      delete: {
        summary: "Remove an override before it expires",
        parameters: [
          ...params,
          { name: "id", in: "path", required: true, schema: { type: "string", format: "uuid" } },
        ],
        responses: { "204": { description: "removed" }, ...errors },
      },
    },
    [`${policyPath}/schedules/{schedule}`]: {
      post: {
        summary: "Switch a scenario schedule on or off",
        parameters: [...params, { name: "schedule", in: "path", required: true, schema: { type: "string" } }],
        requestBody: {
          required: true,
          content: {
            "application/json": {
              schema: {
                type: "object",
                required: ["enabled", "reason"],
                properties: {
                  enabled: { type: "boolean" },
                  reason: { type: "string", minLength: 1, maxLength: 256 },
                },
              },
            },
          },
        },
        responses: { "200": { description: "the scale" }, ...errors },
      },
    },
    [`${policyPath}/audit`]: {
      get: {
        summary: "Who changed what, when and why (and refused attempts)",
        parameters: params,
        responses: { "200": { description: "audit entries" }, ...errors },
      },
    },
  },
  components: {
    securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    schemas: {
      OverrideRequest: {
        type: "object",
        required: ["kind", "ttlSeconds", "reason"],
        additionalProperties: false,
        properties: {
          kind: { type: "string", enum: ["exact", "floor", "ceiling", "freeze-up", "freeze-down"] },
          replicas: {
            type: "integer",
            minimum: 0,
            maximum: 100000,
            description: "for exact, floor and ceiling",
          },
          ttlSeconds: { type: "integer", minimum: 1, maximum: 604800 },
          reason: { type: "string", minLength: 1, maxLength: 256 },
        },
      },
      Error: { type: "object", properties: { error: { type: "string" } } },
    },
  },
} as const;
