// The replica-control API in local mode: token-file authentication, an override that the process pool
// follows, and overrides that survive a restart of `ballast start` (the local state file).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ballastCli, freePort, type Proc, repoRoot, run, waitFor } from "../support/processes.js";

interface ScaleBody {
  specReplicas?: number;
  overrides?: unknown[];
  lastDecision?: { summary: string };
  error?: string;
}

/** Polls gently: the API allows a caller 5 calls per second. */
const gently =
  <T>(fn: () => Promise<T>) =>
  async () => {
    await new Promise((r) => setTimeout(r, 250));
    return fn();
  };

/** A caller of the local API for the policy of workload hello, with the token the tests write. */
function api(port: number) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/namespaces/local/scalingpolicies/hello${path}`, {
      method,
      headers: { authorization: "Bearer t0k3n", "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as ScaleBody };
  };
}

const dir = mkdtempSync(join(tmpdir(), "ballast-local-api-"));
let proc: Proc | undefined;
afterAll(async () => {
  await proc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("replica-control API (local mode)", () => {
  it("holds a floor through the API and keeps it across a restart", async () => {
    const tokens = join(dir, "tokens");
    writeFileSync(tokens, "t0k3n,ops-bot\n");
    const port = await freePort();
    const start = () =>
      run(ballastCli, [
        "start",
        "--config",
        join(repoRoot, "test/fixtures/local-e2e.yaml"),
        "--no-load",
        "--quiet",
        "--api-listen",
        `127.0.0.1:${port}`,
        "--token-file",
        tokens,
        "--state-file",
        join(dir, "state.json"),
        "--audit-log",
        join(dir, "audit.jsonl"),
      ]);
    const call = api(port);
    proc = start();
    await waitFor(
      gently(async () => (await call("GET", "").catch(() => undefined))?.status === 200),
      30_000,
      `the API\n${proc.output()}`,
    );
    const set = await call("POST", "/overrides", {
      kind: "floor",
      replicas: 3,
      ttlSeconds: 120,
      reason: "match at 20:00",
    });
    expect(set.status).toBe(201);
    await waitFor(
      gently(async () => (await call("GET", "")).body.specReplicas === 3),
      20_000,
      "3 replicas",
    );
    expect((await call("GET", "")).body.lastDecision?.summary).toMatch(/override floor 3 by ops-bot/);
    await proc.stop();

    proc = start();
    await waitFor(
      gently(async () => (await call("GET", "").catch(() => undefined))?.body?.specReplicas === 3),
      30_000,
      `3 replicas after the restart\n${proc.output()}`,
    );
    expect((await call("GET", "")).body.overrides).toMatchObject([
      { kind: "floor", replicas: 3, setBy: "ops-bot" },
    ]);
  });

  it("runs a scenario's band and switches it off through the API", async () => {
    const tokens = join(dir, "tokens2");
    writeFileSync(tokens, "t0k3n,ops-bot\n");
    const now = Date.now();
    const config = join(dir, "scenario.yaml");
    writeFileSync(
      config,
      [
        "workloads:",
        "  - name: hello",
        `    command: ["node", ${JSON.stringify(join(repoRoot, "sdk/dist/examples/hello-service/main.js"))}]`,
        "    policy:",
        "      minReplicas: 1",
        "      maxReplicas: 4",
        "      metrics:",
        "        - type: Signal",
        '          signal: { name: inflight, target: { type: AverageValue, averageValue: "4" } }',
        "      behavior: { scaleDown: { stabilizationWindowSeconds: 0 } }",
        "      schedules:",
        `        - { name: launch, start: "${new Date(now - 60_000).toISOString()}", end: "${new Date(now + 600_000).toISOString()}", minReplicas: 2 }`,
        "",
      ].join("\n"),
    );
    const port = await freePort();
    proc = run(ballastCli, [
      "start",
      "--config",
      config,
      "--no-load",
      "--quiet",
      "--api-listen",
      `127.0.0.1:${port}`,
      "--token-file",
      tokens,
      "--state-file",
      join(dir, "state2.json"),
    ]);
    const call = api(port);
    await waitFor(
      gently(async () => (await call("GET", "").catch(() => undefined))?.body?.specReplicas === 2),
      30_000,
      `the scenario's 2 replicas\n${proc.output()}`,
    );
    expect((await call("GET", "/decisions")).body).toMatchObject({});
    expect((await call("POST", "/schedules/nope", { enabled: false, reason: "x" })).status).toBe(404);
    const off = await call("POST", "/schedules/launch", { enabled: false, reason: "launch moved to Friday" });
    expect(off.status).toBe(200);
    await waitFor(
      gently(async () => (await call("GET", "")).body.specReplicas === 1),
      20_000,
      "back to 1 with the scenario off",
    );
    await proc.stop();
  });
});
