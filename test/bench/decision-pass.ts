/**
 * Benchmark of one decision pass: 10,000 workloads × 3 metrics (a Signal, cpu utilization, a Pods
 * metric) × 20 pods, with stabilization history, rate-limit events and `behavior` on half of them.
 * Building the inputs is not timed. `npm run bench` reports it as scaling.decision_pass_ms.
 */
import { decide } from "../../controller/src/scaling/pipeline.js";
import type {
  AutoscalerState,
  ContainerInfo,
  DecisionInput,
  MetricSpec,
  MetricValues,
  PodInfo,
  PodSample,
  ScalingPolicySpec,
} from "../../controller/src/scaling/types.js";
import { prng } from "../support/prng.js";

export interface DecisionPassOptions {
  workloads?: number;
  podsPerWorkload?: number;
  /** Run one untimed pass first so the timed ones measure compiled code (default true). */
  warmup?: boolean;
  /** Timed passes; `ms` is their median, which shrugs off a noisy neighbour (default 5). */
  passes?: number;
}

export interface DecisionPassResult {
  /** Wall time of one pass over the fleet: the median of the timed passes, ms. */
  ms: number;
  /** The fastest and slowest timed pass, ms. */
  minMs: number;
  maxMs: number;
  /** Wall time of the first pass when warmup is on (includes JIT compilation), ms. */
  coldMs?: number;
  workloads: number;
  metricsPerWorkload: number;
  podsPerWorkload: number;
  /** Decisions that changed the replica count (a sanity check that the pass did real work). */
  rescaled: number;
}

const NOW = 1_700_000_000_000;

const METRICS: MetricSpec[] = [
  { type: "Signal", signal: { name: "inflight", target: { type: "AverageValue", averageValue: "4" } } },
  { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } } },
  { type: "Pods", pods: { metric: { name: "rps" }, target: { type: "AverageValue", averageValue: "50" } } },
];

export interface BenchFleet {
  inputs: DecisionInput[];
  states: (AutoscalerState | undefined)[];
  now: number;
}

/** The fleet the pass decides for; exported so tests and profilers can reuse it. */
export function buildFleet(workloads = 10_000, podsPerWorkload = 20): BenchFleet {
  const rand = prng(42);
  const inputs: DecisionInput[] = new Array(workloads);
  const states: (AutoscalerState | undefined)[] = new Array(workloads);
  for (let w = 0; w < workloads; w++) {
    const policy: ScalingPolicySpec = { minReplicas: 2, maxReplicas: 60, metrics: METRICS };
    if (w % 2 === 1) policy.behavior = { scaleDown: { stabilizationWindowSeconds: 120 } };
    const pods: PodInfo[] = new Array(podsPerWorkload);
    const inflight = new Map<string, PodSample>();
    const cpu = new Map<string, PodSample>();
    const rps = new Map<string, PodSample>();
    const load = 0.4 + rand() * 1.4; // per-workload load level around the targets
    // Pods of one workload come from one template, so they share its container list.
    const containers: ContainerInfo[] = [
      { name: "app", requests: { cpu: 500 } },
      { name: "ballast-agent", init: true, restartPolicyAlways: true, requests: { cpu: 50 } },
    ];
    for (let p = 0; p < podsPerWorkload; p++) {
      const name = `w${w}-pod-${p}`;
      pods[p] = {
        name,
        phase: "Running",
        ready: true,
        startTime: NOW - 3_600_000,
        readyTransitionTime: NOW - 3_590_000,
        containers,
      };
      const jitter = 0.8 + rand() * 0.4;
      const ts = NOW - 500;
      // One pod in twenty has not reported its signal yet: exercises the missing-pod path.
      if (p % 20 !== 7)
        inflight.set(name, { value: Math.round(4000 * load * jitter), timestamp: ts, window: 1000 });
      const app = Math.round(330 * load * jitter);
      cpu.set(name, {
        value: app + 10,
        timestamp: ts,
        window: 60_000,
        containers: { app, "ballast-agent": 10 },
      });
      rps.set(name, { value: Math.round(50_000 * load * jitter * 0.9), timestamp: ts, window: 1000 });
    }
    const metrics: MetricValues[] = [{ podSamples: inflight }, { podSamples: cpu }, { podSamples: rps }];
    inputs[w] = {
      workload: `w${w}`,
      policy,
      scale: { specReplicas: podsPerWorkload, statusReplicas: podsPerWorkload },
      pods,
      metrics,
    };
    // A minute of history at one decision every 3 s, and a couple of recent rescales.
    const recommendations = [];
    for (let i = 0; i < 20; i++) {
      recommendations.push({
        replicas: podsPerWorkload + Math.round((rand() - 0.5) * 4),
        at: NOW - (i + 1) * 3000,
      });
    }
    states[w] = {
      recommendations,
      scaleUpEvents: [{ replicaChange: 2, at: NOW - 40_000, outdated: false }],
      scaleDownEvents: [{ replicaChange: 1, at: NOW - 200_000, outdated: false }],
    };
  }
  return { inputs, states, now: NOW };
}

function pass(fleet: BenchFleet): number {
  let rescaled = 0;
  const { inputs, states, now } = fleet;
  for (let i = 0; i < inputs.length; i++) {
    const { decision } = decide(inputs[i] as DecisionInput, states[i], now);
    if (decision.rescale) rescaled++;
  }
  return rescaled;
}

/** Times decision passes over the whole fleet (after an untimed warm-up pass by default). */
export function benchDecisionPass(options: DecisionPassOptions = {}): DecisionPassResult {
  const workloads = options.workloads ?? 10_000;
  const podsPerWorkload = options.podsPerWorkload ?? 20;
  const fleet = buildFleet(workloads, podsPerWorkload);
  let coldMs: number | undefined;
  if (options.warmup ?? true) {
    const t0 = performance.now();
    pass(fleet);
    coldMs = performance.now() - t0;
  }
  const times: number[] = [];
  let rescaled = 0;
  for (let i = 0; i < Math.max(1, options.passes ?? 5); i++) {
    const t0 = performance.now();
    rescaled = pass(fleet);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const result: DecisionPassResult = {
    ms: times[Math.floor(times.length / 2)] as number,
    minMs: times[0] as number,
    maxMs: times[times.length - 1] as number,
    workloads,
    metricsPerWorkload: METRICS.length,
    podsPerWorkload,
    rescaled,
  };
  if (coldMs !== undefined) result.coldMs = coldMs;
  return result;
}
