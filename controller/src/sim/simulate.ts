/**
 * Trace-driven simulation: every policy serves the same offered load, second by second on a virtual
 * clock, and decides with the very pipeline the controller runs (`decide` with the same stages). The
 * loop is pure computation; the caller reads traces and writes reports.
 */
import { DemandFloors } from "../scaling/demand-floors.js";
import { decide } from "../scaling/pipeline.js";
import { rulesStage } from "../scaling/rules.js";
import { scheduleStage } from "../scaling/schedule.js";
import type {
  AutoscalerState,
  DecisionInput,
  MetricSpec,
  MetricValues,
  PodSample,
  RecommendationStage,
} from "../scaling/types.js";
import type { SimPolicy } from "./reference-policies.js";
import type { PerSecond } from "./trace.js";
import { type SecondOutcome, WorkloadModel, type WorkloadModelSettings } from "./workload-model.js";

export interface SimulationInput {
  /** Offered load per second (NaN = no data: the second is skipped). */
  load: PerSecond;
  /** Epoch ms of the first second. */
  start: number;
  policies: readonly SimPolicy[];
  workload: WorkloadModelSettings;
  /** Demand before `start` (epoch ms, req/s) that forecasts may learn from, as Prometheus would give. */
  history?: { t: number[]; v: number[] };
  /** Called about every 1 % with the share done. */
  onProgress?: (done: number) => void;
  /** At most this many timeline points (default 1500). */
  timelinePoints?: number;
}

export interface DecisionRecord {
  at: string;
  from: number;
  to: number;
  summary: string;
}

export interface PolicyResult {
  name: string;
  description: string;
  podHours: number;
  violationMinutes: number;
  /** Minutes in which a new request would have waited longer than the queueing SLO (latency). */
  queueingMinutes: number;
  scalingActions: number;
  peakReplicas: number;
  meanReplicas: number;
  servedRequests: number;
  droppedRequests: number;
  /** Forecast floor: share of decisions it was on, the seconds it raised the count, its last state. */
  predictive?: { activeShare: number; raisedDecisions: number; lastState: string; lastMape?: number };
  /** The first and last rescales (at most 200 each) with their reasons. */
  decisions: DecisionRecord[];
}

export interface Timeline {
  bucketSeconds: number;
  /** Epoch ms of each point. */
  t: number[];
  offered: number[];
  offeredMax: number[];
  /** Per policy: mean replicas, mean ready replicas, violating seconds in each bucket. */
  replicas: Record<string, number[]>;
  ready: Record<string, number[]>;
  violations: Record<string, number[]>;
}

export interface SimulationResult {
  /**
   * A yardstick, not a policy: the pod-hours of the fewest pods that never violate the SLO, with perfect
   * foresight and no start-up time (at least the policies' lowest minReplicas).
   */
  oraclePodHours: number;
  seconds: number;
  gapSeconds: number;
  peakRate: number;
  meanRate: number;
  policies: PolicyResult[];
  timeline: Timeline;
}

const RING = 256;
const KEEP_DECISIONS = 200;

/** Per-second history the metric feeds average over. */
class SecondRing {
  readonly at = new Float64Array(RING).fill(Number.NaN);
  readonly utilization = new Float64Array(RING);
  readonly rpsPerReady = new Float64Array(RING);
  readonly inflightPerReady = new Float64Array(RING);

  record(s: number, o: SecondOutcome, serviceSeconds: number): void {
    const i = s % RING;
    this.at[i] = s;
    this.utilization[i] = o.utilization;
    this.rpsPerReady[i] = o.ready > 0 ? o.served / o.ready : 0;
    this.inflightPerReady[i] = o.ready > 0 ? (o.queued + o.served * serviceSeconds) / o.ready : 0;
  }
}

class PolicyRunner {
  readonly policy: SimPolicy;
  readonly model: WorkloadModel;
  private state: AutoscalerState | undefined;
  private readonly floors: DemandFloors;
  private readonly ring = new SecondRing();
  private readonly stagesFixed: RecommendationStage[];
  private readonly metrics: readonly MetricSpec[];
  podSeconds = 0;
  violatingSeconds = 0;
  queueingSeconds = 0;
  actions = 0;
  peak = 0;
  served = 0;
  dropped = 0;
  decisionsMade = 0;
  predictiveOn = 0;
  predictiveRaised = 0;
  lastPredictive: { state: string; mape?: number } | undefined;
  readonly early: DecisionRecord[] = [];
  readonly late: DecisionRecord[] = [];

  constructor(
    policy: SimPolicy,
    workload: WorkloadModelSettings,
    initialReplicas: number,
    first: number,
    private readonly epochOf: (s: number) => number,
    history: { t: number[]; v: number[] } | undefined,
  ) {
    this.policy = policy;
    this.model = new WorkloadModel(workload, initialReplicas, first);
    this.metrics = policy.spec.metrics ?? [];
    this.floors = new DemandFloors(policy.spec);
    if (history && history.t.length > 0) this.floors.forecast?.warm(history.t, history.v);
    this.stagesFixed = [scheduleStage(policy.spec.schedules ?? [], {}), rulesStage(policy.spec.rules)];
  }

  step(s: number, offered: number, cost: number, sync: boolean): SecondOutcome {
    const o = this.model.step(s, offered, cost);
    this.ring.record(s, o, cost / this.model.settings.capacityPerPod);
    this.podSeconds += o.pods;
    if (o.violating) this.violatingSeconds++;
    if (o.queueing) this.queueingSeconds++;
    this.served += o.served;
    this.dropped += o.dropped;
    if (sync) this.decideAt(s + 1);
    if (this.model.replicas > this.peak) this.peak = this.model.replicas;
    return o;
  }

  /** Mean of `values` over the seconds in [from, to) that `include` accepts; undefined when none. */
  private windowMean(values: Float64Array, from: number, to: number, include: (s: number) => 0 | 1 | 2) {
    let sum = 0;
    let n = 0;
    for (let s = Math.max(0, from); s < to; s++) {
      const i = s % RING;
      if (this.ring.at[i] !== s) continue;
      const k = include(s);
      if (k === 0) continue;
      n++;
      if (k === 2) sum += values[i] as number;
    }
    return n > 0 ? sum / n : undefined;
  }

  private metricValues(now: number): MetricValues[] {
    const p = this.policy;
    const end = now - p.lagSeconds;
    const from = end - p.windowSeconds;
    const stamp = this.epochOf(end);
    const window = p.windowSeconds * 1000;
    const pods = this.model.podTimes();
    const request = this.model.settings.cpuRequestMilli;
    return this.metrics.map((spec) => {
      const podSamples = new Map<string, PodSample>();
      if (spec.type === "Resource" && spec.resource.name === "cpu") {
        // Usage over the window of the seconds the pod existed; it uses no CPU before it is ready.
        for (const pod of pods) {
          const running = pod.created + this.model.settings.startupSeconds;
          if (running > end) continue;
          const mean = this.windowMean(this.ring.utilization, from, end, (s) =>
            s < running ? 0 : s < pod.readyAt ? 1 : 2,
          );
          if (mean !== undefined)
            podSamples.set(pod.name, { value: Math.round(mean * request), timestamp: stamp, window });
        }
        return { podSamples };
      }
      if (spec.type === "Signal" && (spec.signal.name === "rps" || spec.signal.name === "inflight")) {
        // A pod that is not ready yet reports as warming up: no sample (missing, never idle).
        const values = spec.signal.name === "rps" ? this.ring.rpsPerReady : this.ring.inflightPerReady;
        for (const pod of pods) {
          const mean = this.windowMean(values, from, end, (s) => (s < pod.readyAt ? 0 : 2));
          if (mean !== undefined)
            podSamples.set(pod.name, { value: Math.round(mean * 1000), timestamp: stamp, window });
        }
        return { podSamples };
      }
      return { error: `the simulator has no source for ${spec.type} ${JSON.stringify(spec)}` };
    });
  }

  private decideAt(now: number): void {
    const at = this.epochOf(now);
    const stages = [...this.floors.stages(at), ...this.stagesFixed];
    const input: DecisionInput = {
      workload: this.policy.name,
      policy: this.policy.spec,
      scale: { specReplicas: this.model.replicas, statusReplicas: this.model.replicas },
      pods: this.model.podInfos(now, this.epochOf),
      metrics: this.metricValues(now),
      stages,
    };
    if (this.policy.config) input.config = this.policy.config;
    const { decision, state } = decide(input, this.state, at);
    this.state = state;
    this.decisionsMade++;
    const forecast = this.floors.forecast;
    if (forecast) {
      const st = forecast.status(at);
      this.lastPredictive = st.mape === undefined ? { state: st.state } : { state: st.state, mape: st.mape };
      if (st.state === "Active") this.predictiveOn++;
      if (decision.stages.some((x) => x.stage === "predictive")) this.predictiveRaised++;
    }
    this.floors.observe(input, at);
    if (decision.rescale) {
      this.actions++;
      const rec: DecisionRecord = {
        at: new Date(at).toISOString(),
        from: decision.currentReplicas,
        to: decision.desiredReplicas,
        summary: decision.summary,
      };
      if (this.early.length < KEEP_DECISIONS) this.early.push(rec);
      else {
        this.late.push(rec);
        if (this.late.length > KEEP_DECISIONS) this.late.shift();
      }
      this.model.setReplicas(decision.desiredReplicas, now);
    }
  }

  result(seconds: number): PolicyResult {
    const r: PolicyResult = {
      name: this.policy.name,
      description: this.policy.description,
      podHours: this.podSeconds / 3600,
      violationMinutes: this.violatingSeconds / 60,
      queueingMinutes: this.queueingSeconds / 60,
      scalingActions: this.actions,
      peakReplicas: this.peak,
      meanReplicas: seconds > 0 ? this.podSeconds / seconds : 0,
      servedRequests: this.served,
      droppedRequests: this.dropped,
      decisions: [...this.early, ...this.late],
    };
    if (this.floors.forecast) {
      r.predictive = {
        activeShare: this.decisionsMade > 0 ? this.predictiveOn / this.decisionsMade : 0,
        raisedDecisions: this.predictiveRaised,
        lastState: this.lastPredictive?.state ?? "Learning",
      };
      if (this.lastPredictive?.mape !== undefined) r.predictive.lastMape = this.lastPredictive.mape;
    }
    return r;
  }
}

/** Runs every policy over the load and reports each, with a timeline for the chart. */
export function simulate(input: SimulationInput): SimulationResult {
  const { rate, cost } = input.load;
  const n = rate.length;
  const epochOf = (s: number) => input.start + s * 1000;
  const first = rate.findIndex((x) => !Number.isNaN(x));
  // Every policy starts warm: with what the first minute's busiest second needs at 50 % utilization.
  let firstPeak = 0;
  for (let s = Math.max(0, first); s < Math.min(n, first + 60); s++)
    if (!Number.isNaN(rate[s] as number)) firstPeak = Math.max(firstPeak, rate[s] as number);
  const initial = Math.min(200, Math.max(2, Math.ceil(firstPeak / (input.workload.capacityPerPod * 0.5))));
  const runners = input.policies.map(
    (p) => new PolicyRunner(p, input.workload, initial, Math.max(0, first), epochOf, input.history),
  );

  const points = input.timelinePoints ?? 1500;
  const bucketSeconds = Math.max(1, Math.ceil(n / points));
  const buckets = Math.ceil(n / bucketSeconds);
  const timeline: Timeline = {
    bucketSeconds,
    t: Array.from({ length: buckets }, (_, b) => epochOf(b * bucketSeconds)),
    offered: new Array(buckets).fill(0),
    offeredMax: new Array(buckets).fill(0),
    replicas: {},
    ready: {},
    violations: {},
  };
  const counted = new Array(buckets).fill(0);
  for (const p of input.policies) {
    timeline.replicas[p.name] = new Array(buckets).fill(0);
    timeline.ready[p.name] = new Array(buckets).fill(0);
    timeline.violations[p.name] = new Array(buckets).fill(0);
  }

  let gap = 0;
  let oracle = 0;
  const oracleMin = Math.min(...input.policies.map((p) => p.spec.minReplicas ?? 1));
  const perPod = input.workload.sloUtilization * input.workload.capacityPerPod;
  let peak = 0;
  let sum = 0;
  const progressEvery = Math.max(1, Math.floor(n / 100));
  for (let s = 0; s < n; s++) {
    if (input.onProgress && s % progressEvery === 0) input.onProgress(s / n);
    const offered = rate[s] as number;
    if (Number.isNaN(offered)) {
      gap++;
      continue;
    }
    const c = cost ? (cost[s] as number) : 1;
    oracle += Math.max(oracleMin, Math.ceil((offered * c) / perPod - 1e-9));
    peak = Math.max(peak, offered);
    sum += offered;
    const b = Math.floor(s / bucketSeconds);
    counted[b]++;
    timeline.offered[b] += offered;
    timeline.offeredMax[b] = Math.max(timeline.offeredMax[b], offered);
    for (const r of runners) {
      const o = r.step(s, offered, c, s % r.policy.syncSeconds === r.policy.syncSeconds - 1);
      const name = r.policy.name;
      (timeline.replicas[name] as number[])[b] += o.pods;
      (timeline.ready[name] as number[])[b] += o.ready;
      if (o.violating) (timeline.violations[name] as number[])[b]++;
    }
  }
  input.onProgress?.(1);
  for (let b = 0; b < buckets; b++) {
    const k = counted[b];
    if (k === 0) {
      timeline.offered[b] = Number.NaN;
      timeline.offeredMax[b] = Number.NaN;
      for (const p of input.policies) {
        (timeline.replicas[p.name] as number[])[b] = Number.NaN;
        (timeline.ready[p.name] as number[])[b] = Number.NaN;
      }
      continue;
    }
    timeline.offered[b] /= k;
    for (const p of input.policies) {
      (timeline.replicas[p.name] as number[])[b] /= k;
      (timeline.ready[p.name] as number[])[b] /= k;
    }
  }
  const simulated = n - gap;
  return {
    oraclePodHours: oracle / 3600,
    seconds: simulated,
    gapSeconds: gap,
    peakRate: peak,
    meanRate: simulated > 0 ? sum / simulated : 0,
    policies: runners.map((r) => r.result(simulated)),
    timeline,
  };
}
