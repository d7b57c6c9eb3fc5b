import { describe, expect, it } from "vitest";
import { validatePolicySpec } from "./validate.js";

const signal = (averageValue: unknown) => ({
  type: "Signal",
  signal: { name: "inflight", target: { type: "AverageValue", averageValue } },
});

describe("validatePolicySpec", () => {
  it("accepts a policy with every metric type and a full behavior", () => {
    const spec = {
      minReplicas: 1,
      maxReplicas: 20,
      metrics: [
        signal("4"),
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } },
        },
        {
          type: "Resource",
          resource: { name: "memory", target: { type: "AverageValue", averageValue: "512Mi" } },
        },
        {
          type: "ContainerResource",
          containerResource: {
            name: "cpu",
            container: "app",
            target: { type: "Utilization", averageUtilization: 70 },
          },
        },
        {
          type: "Pods",
          pods: { metric: { name: "rps" }, target: { type: "AverageValue", averageValue: 50 } },
        },
        {
          type: "Object",
          object: {
            describedObject: { kind: "Ingress", name: "main", apiVersion: "networking.k8s.io/v1" },
            metric: { name: "requests-per-second" },
            target: { type: "Value", value: "10k" },
          },
        },
        {
          type: "External",
          external: {
            metric: { name: "queue_messages_ready", selector: { matchLabels: { queue: "jobs" } } },
            target: { type: "AverageValue", averageValue: "30" },
          },
        },
      ],
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: 0,
          selectPolicy: "Max",
          policies: [
            { type: "Pods", value: 4, periodSeconds: 15 },
            { type: "Percent", value: 100, periodSeconds: 15 },
          ],
          tolerance: "0.05",
        },
        scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: "Disabled" },
      },
    };
    expect(validatePolicySpec(spec)).toEqual([]);
  });

  it("accepts the smallest policy and fields owned by other validators", () => {
    expect(validatePolicySpec({ maxReplicas: 3 })).toEqual([]);
    expect(
      validatePolicySpec({ maxReplicas: 3, targetRef: {}, predictive: {}, schedules: [], rules: {} }),
    ).toEqual([]);
    expect(validatePolicySpec({ maxReplicas: 3, owner: "x" }, "spec", { allowFields: ["owner"] })).toEqual(
      [],
    );
    expect(validatePolicySpec({ maxReplicas: 3, minReplicas: null, behavior: null, metrics: null })).toEqual(
      [],
    );
  });

  it("names the offending field under the given path", () => {
    expect(validatePolicySpec({ maxReplicas: 5, metrics: [signal("4"), signal("-3")] })).toEqual([
      'spec.metrics[1].signal.target.averageValue: must be a positive quantity, got "-3"',
    ]);
    expect(validatePolicySpec({ maxReplicas: 0 }, "workloads[0].policy")).toEqual([
      "workloads[0].policy.maxReplicas: must be an integer from 1 to 2147483647, got 0",
    ]);
  });

  it.each([
    [{}, "spec.maxReplicas: is required"],
    [{ maxReplicas: Number.NaN }, "spec.maxReplicas: must be an integer from 1 to 2147483647, got null"],
    [{ maxReplicas: Number.POSITIVE_INFINITY }, "spec.maxReplicas: must be an integer"],
    [{ maxReplicas: 2.5 }, "spec.maxReplicas: must be an integer"],
    [{ maxReplicas: "5" }, "spec.maxReplicas: must be an integer"],
    [{ maxReplicas: 5, minReplicas: -1 }, "spec.minReplicas: must be an integer from 0"],
    [
      { maxReplicas: 2, minReplicas: 3 },
      "spec.maxReplicas: must be greater than or equal to minReplicas (3), got 2",
    ],
    [
      { maxReplicas: 2, minReplicas: 0 },
      "spec.minReplicas: may be 0 only with at least one Object or External metric",
    ],
    [{ maxReplicas: 2, maxReplica: 3 }, "spec.maxReplica: unknown field"],
    [{ maxReplicas: 2, metrics: {} }, "spec.metrics: must be a list of metrics"],
    [
      { maxReplicas: 2, metrics: [{ type: "Cheddar" }] },
      'spec.metrics[0].type: must be one of Resource, ContainerResource, Pods, Object, External, Signal, got "Cheddar"',
    ],
    [
      { maxReplicas: 2, metrics: [{ type: "Signal" }] },
      "spec.metrics[0].signal: is required for a Signal metric",
    ],
    [
      { maxReplicas: 2, metrics: [{ ...signal("4"), pods: {} }] },
      "spec.metrics[0].pods: must not be set for a Signal metric",
    ],
    [
      { maxReplicas: 2, metrics: [signal(undefined)] },
      "spec.metrics[0].signal.target.averageValue: is required when type is AverageValue",
    ],
    [
      { maxReplicas: 2, metrics: [signal("4x")] },
      'spec.metrics[0].signal.target.averageValue: must be a positive quantity such as "500m", "4" or "2Gi", got "4x"',
    ],
    [
      { maxReplicas: 2, metrics: [signal(0)] },
      "spec.metrics[0].signal.target.averageValue: must be a positive quantity, got 0",
    ],
    [
      { maxReplicas: 2, metrics: [signal(Number.NaN)] },
      "spec.metrics[0].signal.target.averageValue: must be a positive quantity",
    ],
    [
      {
        maxReplicas: 2,
        metrics: [
          {
            type: "Signal",
            signal: { name: "in flight", target: { type: "AverageValue", averageValue: 1 } },
          },
        ],
      },
      "spec.metrics[0].signal.name: must be a signal name",
    ],
    [
      {
        maxReplicas: 2,
        metrics: [
          {
            type: "Signal",
            signal: { name: "inflight", target: { type: "Utilization", averageUtilization: 50 } },
          },
        ],
      },
      'spec.metrics[0].signal.target.type: must be AverageValue for a Signal metric, got "Utilization"',
    ],
    [
      {
        maxReplicas: 2,
        metrics: [
          {
            type: "Pods",
            pods: { metric: { name: "rps" }, target: { type: "Utilization", averageUtilization: 50 } },
          },
        ],
      },
      'spec.metrics[0].pods.target.type: must be AverageValue for a Pods metric, got "Utilization"',
    ],
    [
      {
        maxReplicas: 2,
        metrics: [
          {
            type: "External",
            external: { metric: { name: "q" }, target: { type: "Utilization", averageUtilization: 5 } },
          },
        ],
      },
      'spec.metrics[0].external.target.type: must be Value or AverageValue for an External metric, got "Utilization"',
    ],
    [
      {
        maxReplicas: 2,
        metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Value", value: "1" } } }],
      },
      'spec.metrics[0].resource.target.type: must be Utilization or AverageValue for a Resource metric, got "Value"',
    ],
    [
      {
        maxReplicas: 2,
        metrics: [
          {
            type: "Resource",
            resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 0 } },
          },
        ],
      },
      "spec.metrics[0].resource.target.averageUtilization: must be a whole percent greater than 0, got 0",
    ],
    [
      {
        maxReplicas: 2,
        metrics: [
          {
            type: "Resource",
            resource: {
              name: "cpu",
              target: { type: "Utilization", averageUtilization: 50, averageValue: "1" },
            },
          },
        ],
      },
      "spec.metrics[0].resource.target.averageValue: must not be set when type is Utilization",
    ],
    [
      { maxReplicas: 2, metrics: [{ type: "Resource", resource: { name: "cpu" } }] },
      "spec.metrics[0].resource.target: is required",
    ],
    [
      {
        maxReplicas: 2,
        metrics: [
          {
            type: "ContainerResource",
            containerResource: {
              name: "cpu",
              container: "App_1",
              target: { type: "Utilization", averageUtilization: 5 },
            },
          },
        ],
      },
      "spec.metrics[0].containerResource.container: must be a container name",
    ],
    [
      {
        maxReplicas: 2,
        metrics: [
          {
            type: "Pods",
            pods: { metric: { name: "a/b" }, target: { type: "AverageValue", averageValue: 1 } },
          },
        ],
      },
      'spec.metrics[0].pods.metric.name: must be a metric name without "/" or "%"',
    ],
    [
      {
        maxReplicas: 2,
        metrics: [{ type: "Object", object: { metric: { name: "x" }, target: { type: "Value", value: 1 } } }],
      },
      "spec.metrics[0].object.describedObject: is required",
    ],
    [
      { maxReplicas: 2, behavior: { scaleUp: { policies: [] } } },
      "spec.behavior.scaleUp.policies: must list at least one policy",
    ],
    [
      {
        maxReplicas: 2,
        behavior: { scaleUp: { policies: [{ type: "Pods", value: 1, periodSeconds: 1801 }] } },
      },
      "spec.behavior.scaleUp.policies[0].periodSeconds: must be an integer from 1 to 1800, got 1801",
    ],
    [
      {
        maxReplicas: 2,
        behavior: { scaleDown: { policies: [{ type: "Percent", value: 10, periodSeconds: 0 }] } },
      },
      "spec.behavior.scaleDown.policies[0].periodSeconds: must be an integer from 1 to 1800, got 0",
    ],
    [
      {
        maxReplicas: 2,
        behavior: { scaleDown: { policies: [{ type: "Replicas", value: 0, periodSeconds: 15 }] } },
      },
      'spec.behavior.scaleDown.policies[0].type: must be Pods or Percent, got "Replicas"',
    ],
    [
      {
        maxReplicas: 2,
        behavior: { scaleDown: { policies: [{ type: "Pods", value: 0, periodSeconds: 15 }] } },
      },
      "spec.behavior.scaleDown.policies[0].value: must be an integer from 1",
    ],
    [
      { maxReplicas: 2, behavior: { scaleDown: { stabilizationWindowSeconds: 3601 } } },
      "spec.behavior.scaleDown.stabilizationWindowSeconds: must be an integer from 0 to 3600, got 3601",
    ],
    [
      { maxReplicas: 2, behavior: { scaleDown: { stabilizationWindowSeconds: -1 } } },
      "spec.behavior.scaleDown.stabilizationWindowSeconds: must be an integer from 0 to 3600, got -1",
    ],
    [
      { maxReplicas: 2, behavior: { scaleUp: { selectPolicy: "Maximum" } } },
      'spec.behavior.scaleUp.selectPolicy: must be Max, Min or Disabled, got "Maximum"',
    ],
    [
      { maxReplicas: 2, behavior: { scaleUp: { tolerance: "-0.1" } } },
      'spec.behavior.scaleUp.tolerance: must be a non-negative quantity, got "-0.1"',
    ],
    [{ maxReplicas: 2, behaviour: {} }, "spec.behaviour: unknown field"],
    [{ maxReplicas: 2, behavior: { scaleup: {} } }, "spec.behavior.scaleup: unknown field"],
  ])("refuses %j", (spec, message) => {
    const errors = validatePolicySpec(spec);
    expect(
      errors.some((e) => e.startsWith(message)),
      errors.join("\n"),
    ).toBe(true);
  });

  it("accepts scale to zero with an Object or External metric", () => {
    const external = {
      type: "External",
      external: { metric: { name: "queue" }, target: { type: "Value", value: "100" } },
    };
    expect(validatePolicySpec({ minReplicas: 0, maxReplicas: 5, metrics: [external] })).toEqual([]);
  });

  it("reports every problem, not just the first", () => {
    const errors = validatePolicySpec({
      minReplicas: 9,
      maxReplicas: 2,
      metrics: [signal("-1"), { type: "Nope" }],
    });
    expect(errors).toHaveLength(3);
  });

  it("refuses a spec that is not a mapping", () => {
    expect(validatePolicySpec(null)).toEqual(["spec: must be a mapping with at least maxReplicas"]);
    expect(validatePolicySpec([1])).toEqual(["spec: must be a mapping with at least maxReplicas"]);
  });
});
