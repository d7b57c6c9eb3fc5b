// `ballast start` end to end on local mode: real replicas (service + agent process groups), the real
// front and load generator. Scales up under the spike, back to min after it, and leaves no process.
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { RunResult } from "../../controller/src/local/local-mode.js";
import { ballastCli, processesWithMarker, repoRoot, run, waitFor } from "../support/processes.js";

const dir = mkdtempSync(join(tmpdir(), "ballast-e2e-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("ballast start (local mode)", () => {
  it("scales up under the spike, drains back to min, and leaves nothing running", async () => {
    const marker = `BALLAST_E2E_${randomUUID()}`;
    const json = join(dir, "run.json");
    const p = run(
      ballastCli,
      [
        "start",
        "--config",
        join(repoRoot, "test/fixtures/local-e2e.yaml"),
        "--duration",
        "50",
        "--json",
        json,
      ],
      {
        [marker]: "1",
      },
    );
    const code = await p.exited;
    expect(code, p.output()).toBe(0);
    const result = JSON.parse(readFileSync(json, "utf8")) as RunResult;

    const spike = result.timeline.filter((x) => x.t >= 8 && x.t <= 23);
    expect(Math.max(...spike.map((x) => x.replicasReady)), p.output()).toBeGreaterThanOrEqual(3);
    const end = result.timeline.slice(-3);
    expect(
      end.every((x) => x.replicasReady === 1 && x.replicasDesired === 1),
      JSON.stringify(end),
    ).toBe(true);

    expect(result.decisions.length).toBeGreaterThanOrEqual(2);
    for (const d of result.decisions) {
      expect(d.reason.length).toBeGreaterThan(10);
      expect(d.from).not.toBe(d.to);
    }
    expect(result.decisions.some((d) => d.to > d.from)).toBe(true);
    expect(result.decisions.some((d) => d.to < d.from)).toBe(true);
    // Scale-in drained replicas before stopping them: the load generator saw no failure.
    expect(result.load?.failed, JSON.stringify(result.load)).toBe(0);
    expect(result.load?.ok).toBeGreaterThan(1000);

    await waitFor(() => processesWithMarker(marker).length === 0, 5000, "every process of the run to exit");
  }, 90_000);

  it("refuses a bad ballast.yaml naming the file, the line and the field", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(
      bad,
      [
        "workloads:",
        "  - name: web",
        '    command: ["node", "x.js"]',
        "    policy:",
        "      minReplicas: 3",
        "      maxReplicas: 2",
        "",
      ].join("\n"),
    );
    const p = run(ballastCli, ["start", "--config", bad, "--duration", "1"]);
    expect(await p.exited).toBe(2);
    expect(p.output()).toMatch(
      new RegExp(
        `${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:[56]: workloads\\[0\\]\\.policy\\.(min|max)Replicas: `,
      ),
    );
  });
});
