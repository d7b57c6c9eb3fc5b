// `npm run bench -- --json FILE`: runs every benchmark and writes [{name, value, unit, baseline?, ratio?}].
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { agentIdleRss } from "./agent-rss.js";
import { agentRss, agentStartToReady } from "./agent-startup.js";
import { benchDecisionPass } from "./decision-pass.js";
import type { Figure } from "./figure.js";
import { kubeReaction } from "./kube-reaction.js";
import { lazyReady } from "./lazy-ready.js";
import { sdkCpu } from "./sdk-cpu.js";
import { sdkHotPath } from "./sdk-hot-path.js";
import { sdkOverhead } from "./sdk-overhead.js";
import { simulationFigures } from "./simulation.js";
import { round } from "./stats.js";

const benches: Record<string, () => Promise<Figure[]>> = {
  "sdk-overhead": sdkOverhead,
  "sdk-hot-path": sdkHotPath,
  // Instructions and CPU ns per request with and without the SDK (perf counters, else callgrind).
  "sdk-cpu": sdkCpu,
  "agent-rss": agentIdleRss,
  "agent-rss-connected": agentRss,
  "agent-start": agentStartToReady,
  "lazy-ready": lazyReady,
  // Load crossing the target → new /scale value seen by a watch, on the real control plane.
  "kube-reaction": kubeReaction,
  // The simulator on the shipped traces (wc98, nasa ×100, wikipedia, spike, blackfriday).
  simulation: () => simulationFigures(),
  // One pass over 10,000 workloads × 3 metrics × 20 pods, single-threaded (one core).
  "decision-pass": async () => [
    { name: "scaling.decision_pass_ms", value: round(benchDecisionPass().ms, 1), unit: "ms" },
  ],
};

const { values } = parseArgs({ options: { json: { type: "string" }, only: { type: "string" } } });
const figures: Figure[] = [];
for (const [name, bench] of Object.entries(benches)) {
  if (values.only && !values.only.split(",").includes(name)) continue;
  process.stderr.write(`bench ${name}...\n`);
  for (const f of await bench()) {
    figures.push(f);
    process.stderr.write(
      `  ${f.name} = ${f.value} ${f.unit}${f.baseline !== undefined ? ` (baseline ${f.baseline}, ratio ${f.ratio})` : ""}\n`,
    );
  }
}
if (values.json) writeFileSync(values.json, `${JSON.stringify(figures, null, 2)}\n`);
else process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
