import { describe, expect, it } from "vitest";
import { ConfigFileError, parseFieldPath } from "./config-error.js";
import { parseLocalConfig } from "./local-config.js";

const good = `
workloads:
  - name: web
    command: ["node", "server.js"]
    env: { WORK_MS: 3 }
    policy:
      minReplicas: 1
      maxReplicas: 4
      metrics:
        - type: Signal
          signal: { name: inflight, target: { type: AverageValue, averageValue: "4" } }
load:
  workload: web
  phases:
    - { name: ramp, seconds: 10, fromRps: 1, toRps: 10 }
    - { name: hold, seconds: 5, rps: 10 }
`;

function problems(text: string): string[] {
  try {
    parseLocalConfig(text, "ballast.yaml");
  } catch (e) {
    if (e instanceof ConfigFileError) return e.message.split("\n");
    throw e;
  }
  return [];
}

describe("ballast.yaml", () => {
  it("reads a sound file with defaults filled in", () => {
    const c = parseLocalConfig(good, "/srv/app/ballast.yaml");
    expect(c.baseDir).toBe("/srv/app");
    expect(c.syncPeriodMs).toBe(1000);
    expect(c.workloads[0]).toMatchObject({
      name: "web",
      env: { WORK_MS: "3" },
      port: 0,
      drainDeadlineMs: 10_000,
    });
    expect(c.load?.phases).toEqual([
      { name: "ramp", seconds: 10, fromRps: 1, toRps: 10 },
      { name: "hold", seconds: 5, fromRps: 10, toRps: 10 },
    ]);
  });

  it("names the file, the line and the field of each problem", () => {
    const text = good.replace("maxReplicas: 4", "maxReplicas: -4").replace("seconds: 5", "seconds: soon");
    const lines = problems(text);
    expect(lines).toContainEqual(
      expect.stringMatching(/^ballast\.yaml:8: workloads\[0\]\.policy\.maxReplicas: /),
    );
    expect(lines).toContainEqual('ballast.yaml:16: load.phases[1].seconds: must be a number, got "soon"');
  });

  it("names unknown fields and syntax errors", () => {
    expect(problems(good.replace("    env:", "    enviroment:"))).toContainEqual(
      "ballast.yaml:5: workloads[0].enviroment: unknown field; expected one of name, command, env, port, drainDeadlineSeconds, policy",
    );
    expect(problems("workloads: [\n  {name: x\n")[0]).toMatch(/^ballast\.yaml:\d+: \(syntax\): /);
  });

  it("refuses a load profile aimed at no workload", () => {
    expect(problems(good.replace("workload: web", "workload: api"))).toContainEqual(
      "ballast.yaml:13: load.workload: must name one of the workloads (web)",
    );
  });

  it("checks predictive with field names, and only the real problem when a workload is refused", () => {
    const bad = good.replace(
      '          signal: { name: inflight, target: { type: AverageValue, averageValue: "4" } }',
      '          signal: { name: inflight, target: { type: AverageValue, averageValue: "4" } }\n      predictive: { metric: rps, bucketSeconds: 420 }',
    );
    expect(problems(bad)).toEqual([
      "ballast.yaml:12: workloads[0].policy.predictive.bucketSeconds: must divide a day (86400) evenly",
      'ballast.yaml:12: workloads[0].policy.predictive.metric: no metric named "rps" in the policy',
    ]);
  });

  it("refuses metrics local replicas cannot measure", () => {
    const cpu = good.replace(
      `- type: Signal
          signal: { name: inflight, target: { type: AverageValue, averageValue: "4" } }`,
      `- type: Resource
          resource: { name: cpu, target: { type: Utilization, averageUtilization: 50 } }`,
    );
    expect(problems(cpu)).toEqual([
      "ballast.yaml:10: workloads[0].policy.metrics[0]: local replicas have no container requests: use target.type AverageValue",
    ]);
    const none = good.replace(/ {6}metrics:[\s\S]*?\n(?=load:)/, "");
    expect(problems(none)[0]).toMatch(
      /^ballast\.yaml:\d+: workloads\[0\]\.policy\.metrics: required in local mode/,
    );
  });

  it("parses field paths", () => {
    expect(parseFieldPath('a.b[0].c["x.y"]')).toEqual(["a", "b", 0, "c", "x.y"]);
  });
});
