import { describe, expect, it } from "vitest";
import { REFERENCE_POLICIES, type SimPolicy } from "./reference-policies.js";
import { simulate } from "./simulate.js";
import { renderChart } from "./svg-chart.js";
import { parseCsvTrace, parseJsonTrace, perSecond, TraceError } from "./trace.js";
import { REFERENCE_WORKLOAD, WorkloadModel } from "./workload-model.js";

const policy = (name: string) => REFERENCE_POLICIES.find((p) => p.name === name) as SimPolicy;

describe("traces", () => {
  it("reads counts per bin as rates, with cost, and refuses bad rows naming the line", () => {
    const t = parseCsvTrace("# comment\nt_seconds,requests,cost\n0,600,1\n60,1200,2\n", { name: "x" });
    expect(t.resolutionSeconds).toBe(60);
    expect([...t.rate]).toEqual([10, 20]);
    expect([...(t.cost ?? [])]).toEqual([1, 2]);
    expect(() => parseCsvTrace("t_seconds,requests\n0,5\n1,-3\n", {}, "f.csv")).toThrow(
      'f.csv:3: requests "-3" is not a number ≥ 0',
    );
    expect(() => parseCsvTrace("time,load\n0,5\n", {}, "f.csv")).toThrow(
      "f.csv:1: header needs a requests or rate column",
    );
    expect(() => parseCsvTrace("t,rate\n5,1\n5,2\n", {}, "f.csv")).toThrow("increasing time order (row 2)");
    expect(() => parseCsvTrace("", {}, "f.csv")).toThrow(TraceError);
  });

  it("reads JSON with t0 and rates", () => {
    const t = parseJsonTrace(
      JSON.stringify({
        t0: "2026-01-01T00:00:00Z",
        points: [
          { t: 0, rate: 5 },
          { t: 1, rate: 7 },
        ],
      }),
      {},
    );
    expect(t.t0).toBe(Date.parse("2026-01-01T00:00:00Z"));
    expect([...t.rate]).toEqual([5, 7]);
    expect(() => parseJsonTrace('{"points":[{"t":0,"rate":"x"}]}', {}, "j")).toThrow(
      "j: points[0].rate: not a number ≥ 0",
    );
  });

  it("spreads coarse bins linearly between their centres and keeps gaps as NaN", () => {
    // Two adjacent minutes at 10 and 20 req/s, then a missing minute, then one at 30.
    const t = parseCsvTrace("t_seconds,requests\n0,600\n60,1200\n180,1800\n", {}, "g");
    const { rate } = perSecond(t, 0, 240);
    expect(rate[0]).toBe(10); // outer half of the first bin stays flat
    expect(rate[30]).toBeCloseTo(10 + 10 * (0.5 / 60), 5);
    expect(rate[59]).toBeCloseTo(15 - 10 * (0.5 / 60), 5);
    expect(rate[90]).toBeCloseTo(20, 5);
    expect(rate[130]).toBeNaN();
    expect(rate[200]).toBe(30);
    expect(perSecond(t, 60, 2, 100).rate[0]).toBeCloseTo(1500 + 1000 * (0.5 / 60), 3);
  });
});

describe("workload model", () => {
  it("serves with ready pods only, queues the rest, and counts an SLO second above 90 % of capacity", () => {
    const m = new WorkloadModel(REFERENCE_WORKLOAD, 2, 0);
    expect(m.step(0, 170).violating).toBe(false);
    const o = m.step(1, 250);
    expect(o).toMatchObject({
      served: 200,
      queued: 50,
      ready: 2,
      violating: true,
      queueing: false,
      utilization: 1,
    });
    // 250 waiting for 200/s: a new request would wait 1.25 s, above the 0.5 s queueing SLO.
    expect(m.step(2, 400)).toMatchObject({ queued: 250, queueing: true });
    m.setReplicas(4, 2);
    expect(m.step(10, 0)).toMatchObject({ ready: 2, served: 200, queued: 50, queueing: false });
    expect(m.readyCount(31)).toBe(2);
    expect(m.readyCount(32)).toBe(4);
    // Scale-in takes the pods that are not ready first.
    m.setReplicas(6, 40);
    m.setReplicas(4, 45);
    expect(m.readyCount(45)).toBe(4);
  });

  it("drops what would wait longer than the timeout", () => {
    const m = new WorkloadModel(REFERENCE_WORKLOAD, 1, 0);
    let dropped = 0;
    for (let s = 0; s < 30; s++) dropped += m.step(s, 300).dropped;
    expect(m.backlog).toBeCloseTo(1000, 5); // 10 s of one pod's capacity
    expect(dropped).toBeCloseTo(30 * 200 - 1000, 5);
  });
});

/** Flat load, then a step up (×4 within a second) held for 20 minutes, then back. */
function stepLoad(): Float64Array {
  const rate = new Float64Array(3600).fill(300);
  rate.fill(1200, 600, 1800);
  return rate;
}

describe("simulate", () => {
  const start = Date.UTC(2026, 0, 5, 12);

  it("reacts faster with pushed signals than with metrics-server lag, with the same core", () => {
    const r = simulate({
      load: { rate: stepLoad(), cost: undefined },
      start,
      policies: [policy("hpa-cpu"), policy("hpa-signals")],
      workload: REFERENCE_WORKLOAD,
    });
    const [cpu, signals] = r.policies;
    expect(r.seconds).toBe(3600);
    expect(cpu?.violationMinutes).toBeGreaterThan(signals?.violationMinutes as number);
    // The step needs 24 pods at 50 %: both get there, neither beyond the bounds.
    for (const p of r.policies) {
      expect(p.peakReplicas).toBeGreaterThanOrEqual(24);
      expect(p.peakReplicas).toBeLessThanOrEqual(200);
      expect(p.decisions[0]?.summary).toMatch(/resource cpu/);
    }
    // hpa-cpu decides every 15 s; its first scale-up comes after the lagging window saw the step.
    const firstUp = Date.parse(cpu?.decisions.find((d) => d.to > d.from)?.at as string);
    expect(firstUp - (start + 600_000)).toBeGreaterThanOrEqual(15_000);
    const firstUpSignals = Date.parse(signals?.decisions.find((d) => d.to > d.from)?.at as string);
    expect(firstUpSignals - (start + 600_000)).toBeLessThanOrEqual(2000);
  });

  it("skips seconds without data: no pod-hours, no decisions, no violations there", () => {
    const rate = new Float64Array(1200).fill(300);
    rate.fill(Number.NaN, 300, 900);
    const r = simulate({
      load: { rate, cost: undefined },
      start,
      policies: [policy("hpa-cpu")],
      workload: REFERENCE_WORKLOAD,
    });
    expect(r.gapSeconds).toBe(600);
    expect(r.seconds).toBe(600);
    // 6 pods (300 req/s at 50 %) for 600 s.
    expect(r.policies[0]?.podHours).toBeCloseTo((6 * 600) / 3600, 5);
    expect(Number.isNaN(r.timeline.offered[r.timeline.t.length >> 1] as number)).toBe(true);
  });

  it("is deterministic and reports a forecast floor that learns from the history it is given", () => {
    const day = 86_400;
    const rate = new Float64Array(2 * 3600);
    const wave = (at: number) => 600 + 400 * Math.sin((2 * Math.PI * at) / (day * 1000));
    for (let s = 0; s < rate.length; s++) rate[s] = wave(start + s * 1000);
    const history = { t: [] as number[], v: [] as number[] };
    for (let at = start - 3 * day * 1000; at < start; at += 60_000) {
      history.t.push(at);
      history.v.push(wave(at));
    }
    const run = () =>
      simulate({
        load: { rate, cost: undefined },
        start,
        policies: [policy("ballast")],
        workload: REFERENCE_WORKLOAD,
        history,
      });
    const a = run();
    const b = run();
    expect(a.policies).toEqual(b.policies);
    const p = a.policies[0];
    expect(p?.predictive?.lastState).toBe("Active");
    expect(p?.predictive?.activeShare).toBe(1);
    expect(p?.predictive?.lastMape).toBeLessThan(5);
    expect(p?.violationMinutes).toBe(0);
  });

  it("burst headroom holds spare capacity where the load jumps minute to minute", () => {
    // 150 req/s with a jump to 200 in one minute of every five: fine for 2 pods at a 75 target, over
    // their 180 req/s SLO in the jumping minutes unless the floor keeps a third pod.
    const rate = new Float64Array(3 * 3600);
    for (let s = 0; s < rate.length; s++) rate[s] = Math.floor(s / 60) % 5 === 4 ? 200 : 150;
    const ballast = policy("ballast");
    const { burstHeadroom: _, ...without } = ballast.spec;
    const r = simulate({
      load: { rate, cost: undefined },
      start,
      policies: [
        { ...ballast, name: "without", spec: without },
        { ...ballast, name: "with", spec: ballast.spec },
      ],
      workload: REFERENCE_WORKLOAD,
    });
    const [off, on] = r.policies;
    expect(off?.violationMinutes).toBeGreaterThan(5);
    expect(on?.violationMinutes).toBeLessThan(1);
    expect(on?.podHours).toBeGreaterThan(off?.podHours as number);
    expect(on?.decisions.some((d) => /σ above the mean needs 3 at 90\/pod/.test(d.summary))).toBe(true);
  });

  it("draws a chart with the load, a line per policy and the totals in the legend", () => {
    const r = simulate({
      load: { rate: stepLoad(), cost: undefined },
      start,
      policies: [policy("hpa-cpu"), policy("ballast")],
      workload: REFERENCE_WORKLOAD,
    });
    const svg = renderChart(r, "step <test>", 100);
    expect(svg).toContain(
      '<text id="title" x="64" y="24" font-size="16" font-weight="bold">step &lt;test&gt;</text>',
    );
    expect(svg.match(/class="replicas"/g)).toHaveLength(2);
    expect(svg).toContain(
      `hpa-cpu: ${r.policies[0]?.podHours.toLocaleString("en-US", { maximumFractionDigits: 1 })} pod-h`,
    );
  });
});
