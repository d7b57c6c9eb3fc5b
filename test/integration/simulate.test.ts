// `ballast simulate` as a user runs it: the built CLI on the shipped World Cup per-second days, its JSON
// report, and its SVG chart opened in a real Chromium.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { SimulationReport } from "../../controller/src/cli/simulate.js";
import { blackFriday, spike } from "../traces/make-synthetic.js";

const CLI = join(import.meta.dirname, "../../controller/dist/src/cli/main.js");
const CHROMIUM = process.env.BALLAST_CHROMIUM ?? "/usr/bin/chromium";
const dir = mkdtempSync(join(tmpdir(), "ballast-sim-"));

/** Runs in the page: what Chromium laid out for the chart's parts. */
const CHART_PROBE = `(() => {
  const box = (el) => { const b = el && el.getBBox(); return b ? { width: b.width, height: b.height } : undefined; };
  return {
    title: document.getElementById("title")?.textContent,
    load: box(document.getElementById("load")),
    lines: [...document.querySelectorAll("path.replicas")].map((p) => ({ policy: p.getAttribute("data-policy"), box: box(p) })),
    legend: [...document.querySelectorAll("g.legend text")].map((t) => t.textContent),
  };
})()`;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, "simulate", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("ballast simulate", () => {
  const json = join(dir, "wc98.json");
  const svg = join(dir, "wc98.svg");
  let report: SimulationReport;

  it("replays the World Cup days under the three policies with progress, a table, JSON and SVG", async () => {
    const r = await run(["--trace", "wc98", "--json", json, "--svg", svg]);
    expect(r.stderr).toMatch(/simulate wc98: 0 % \(0 of 172,800 s\)/);
    expect(r.stderr).toMatch(/simulate wc98: 100 % \(172,800 of 172,800 s\)/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^policy\s+pod-hours\s+vs first\s+violation min/m);
    report = JSON.parse(readFileSync(json, "utf8"));
    expect(report.trace).toMatchObject({
      name: "wc98",
      from: "1998-06-25T22:00:01.000Z",
      simulatedSeconds: 172_800,
      gapSeconds: 0,
      peakRate: 3242,
    });
    expect(report.policies.map((p) => p.name)).toEqual(["hpa-cpu", "hpa-signals", "ballast"]);
    const [cpu, , ballast] = report.policies;
    // Ballast's policy: no more SLO-violation time than the upstream baseline, at fewer pod-hours.
    expect(ballast?.violationMinutes).toBeLessThanOrEqual(cpu?.violationMinutes as number);
    expect(ballast?.podHours).toBeLessThan(0.8 * (cpu?.podHours as number));
    expect(ballast?.predictive?.lastState).toBe("Active");
    expect(report.timeline.t.length).toBeLessThanOrEqual(1500);
    for (const p of report.policies) expect(p.decisions.length).toBeGreaterThan(10);
  });

  it("refuses bad input naming the flag or field", async () => {
    const bad = join(dir, "bad.csv");
    writeFileSync(bad, "t_seconds,requests\n0,10\n1,x\n");
    const r1 = await run(["--trace", bad]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain(`--trace: ${bad}:3: requests "x" is not a number ≥ 0`);
    const r2 = await run(["--trace", "wc98", "--slo", "3"]);
    expect(r2.stderr).toContain("--slo: a share of capacity from 0 to 1, got 3");
    const r4 = await run(["--trace", "wc98", "--from", "1998-06-26T00:00:00Z"]);
    expect(r4.code).toBe(2);
    expect(r4.stderr).toContain("--from: only with a trace file; wc98's window is set in traces.json");
    const policies = join(dir, "policies.yaml");
    writeFileSync(
      policies,
      "- hpa-cpu\n- name: mine\n  syncSeconds: 0\n  windowSeconds: 1\n  lagSeconds: 0\n  spec:\n    maxReplicas: 5\n    metrics:\n      - type: External\n        external: {metric: {name: q}, target: {type: Value, value: '3'}}\n",
    );
    const r3 = await run(["--trace", "spike", "--policies", policies]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain(
      "[1].spec.metrics[0]: the simulator measures Resource cpu, Signal rps, Signal inflight",
    );
    expect(r3.stderr).toContain("[1].syncSeconds: must be an integer from 1 to 60");
  });

  it("ships synthetic traces that the documented script makes", () => {
    const here = join(import.meta.dirname, "../traces");
    expect(readFileSync(join(here, "spike.csv"), "utf8")).toBe(spike());
    expect(readFileSync(join(here, "blackfriday.csv"), "utf8")).toBe(blackFriday());
  });

  const chromiumMissing = spawnSync(CHROMIUM, ["--version"], { stdio: "ignore" }).status !== 0;
  const required = Boolean(process.env.BALLAST_REQUIRE_CHROMIUM);
  if (chromiumMissing && !required)
    process.stderr.write(
      `simulate: chart check in Chromium SKIPPED: ${CHROMIUM} not found (Debian: apt-get install chromium)\n`,
    );
  it.skipIf(chromiumMissing && !required)("draws a chart that renders in Chromium", async () => {
    expect(chromiumMissing, `${CHROMIUM} is required (BALLAST_REQUIRE_CHROMIUM is set)`).toBe(false);
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1240, height: 680 } });
      await page.goto(`file://${svg}`);
      const seen = (await page.evaluate(CHART_PROBE)) as {
        title: string;
        load?: { width: number; height: number };
        lines: { policy: string; box?: { width: number; height: number } }[];
        legend: string[];
      };
      expect(seen.title).toBe("wc98: 1998-06-25T22:00 → 1998-06-27T22:00 UTC");
      // The load area and each policy's line span the plot: 1,112 px wide, and tall enough to show change.
      expect(seen.load?.width).toBeGreaterThan(1100);
      expect(seen.load?.height).toBeGreaterThan(100);
      expect(seen.lines.map((l) => l.policy)).toEqual(["hpa-cpu", "hpa-signals", "ballast"]);
      for (const l of seen.lines) {
        expect(l.box?.width).toBeGreaterThan(1100);
        expect(l.box?.height).toBeGreaterThan(50);
      }
      expect(seen.legend[0]).toMatch(/^hpa-cpu: [\d,.]+ pod-h, [\d.]+ violation min, peak \d+$/);
      // Pixels: the three line colours are really drawn.
      const png = await page.screenshot({ type: "png" });
      expect(png.length).toBeGreaterThan(20_000);
    } finally {
      await browser.close();
    }
  });
});
