// The simulator's bench figures carry the names and baselines the issue fixes, for every shipped trace.
import { describe, expect, it } from "vitest";
import { SIM_TRACES, simulationFigures } from "../bench/simulation.js";

describe("sim bench figures", () => {
  it("names sim.<trace>.<policy>.pod_hours and .violation_minutes with hpa-cpu as the baseline", async () => {
    expect(SIM_TRACES).toEqual(["wc98", "nasa", "wikipedia", "spike", "blackfriday"]);
    const figures = await simulationFigures(["spike"]);
    const names = figures.map((f) => f.name);
    for (const policy of ["hpa-cpu", "hpa-signals", "ballast"])
      for (const what of ["pod_hours", "violation_minutes"])
        expect(names).toContain(`sim.spike.${policy}.${what}`);
    const ballast = figures.find((f) => f.name === "sim.spike.ballast.pod_hours");
    const cpu = figures.find((f) => f.name === "sim.spike.hpa-cpu.pod_hours");
    expect(ballast?.baseline).toBe(cpu?.value);
    expect(ballast?.ratio).toBeCloseTo((ballast?.value as number) / (cpu?.value as number), 2);
    expect(figures.find((f) => f.name === "sim.spike.oracle.pod_hours")?.value).toBeLessThan(
      cpu?.value as number,
    );
  });
});
