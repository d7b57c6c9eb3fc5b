/**
 * The simulator's figures on the shipped traces, in the reference setup (reference-policies.ts):
 * sim.<trace>.<policy>.pod_hours and .violation_minutes for hpa-cpu, hpa-signals and ballast, each with
 * hpa-cpu of the same run as its baseline. Deterministic: the same code and traces give the same figures.
 */
import { defaultTraceDir, loadCatalogTrace } from "../../controller/src/sim/catalog.js";
import { REFERENCE_POLICIES } from "../../controller/src/sim/reference-policies.js";
import { simulate } from "../../controller/src/sim/simulate.js";
import { REFERENCE_WORKLOAD } from "../../controller/src/sim/workload-model.js";
import type { Figure } from "./figure.js";
import { round } from "./stats.js";

export const SIM_TRACES = ["wc98", "nasa", "wikipedia", "spike", "blackfriday"] as const;

export async function simulationFigures(traces: readonly string[] = SIM_TRACES): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const name of traces) {
    const began = performance.now();
    const trace = loadCatalogTrace(defaultTraceDir(), name);
    const result = simulate({
      load: trace.load,
      start: trace.start,
      policies: REFERENCE_POLICIES,
      workload: REFERENCE_WORKLOAD,
      ...(trace.history ? { history: trace.history } : {}),
    });
    const base = result.policies.find((p) => p.name === "hpa-cpu");
    for (const p of result.policies) {
      const podHours: Figure = {
        name: `sim.${name}.${p.name}.pod_hours`,
        value: round(p.podHours, 1),
        unit: "pod-h",
      };
      const violation: Figure = {
        name: `sim.${name}.${p.name}.violation_minutes`,
        value: round(p.violationMinutes, 2),
        unit: "min",
      };
      if (base && p !== base) {
        podHours.baseline = round(base.podHours, 1);
        podHours.ratio = round(p.podHours / base.podHours, 3);
        violation.baseline = round(base.violationMinutes, 2);
        if (base.violationMinutes > 0) violation.ratio = round(p.violationMinutes / base.violationMinutes, 3);
      }
      figures.push(podHours, violation);
    }
    figures.push({
      name: `sim.${name}.oracle.pod_hours`,
      value: round(result.oraclePodHours, 1),
      unit: "pod-h",
    });
    process.stderr.write(
      `  ${name}: ${result.seconds.toLocaleString("en-US")} s simulated in ${((performance.now() - began) / 1000).toFixed(1)} s\n`,
    );
  }
  return figures;
}
