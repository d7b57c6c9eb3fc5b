/**
 * The policies `ballast simulate` compares, in the reference setup (each pod 100 req/s at 100 % of a
 * 1-core request, ready 30 s after creation, 2 to 200 replicas).
 *
 * - `hpa-cpu`: the upstream HPA as shipped: cpu Utilization 50 %, tolerance 0.1, no `behavior` (the
 *   ×2-or-4 scale-up cap, 300 s scale-down stabilization), a sync every 15 s on the mean usage of a 15 s
 *   window that ends 15 s before the sync (kubelet → metrics-server lag).
 * - `hpa-signals`: the same core and policy fed each second by the pods' pushed usage.
 * - `ballast`: Ballast's policy: the served request rate per pod against 75 % of capacity and the
 *   in-flight requests per pod (a queue that forms is overload the rate cannot show once CPU saturates),
 *   pushed each second, a quick scale-up and a paced scale-down, a 10-minute forecast floor and a
 *   burst-headroom floor (mean + 5 σ of the last 450 s at 90 req/s per pod).
 */
import type { ControllerConfig, ScalingPolicySpec } from "../scaling/types.js";

export interface SimPolicy {
  name: string;
  description: string;
  spec: ScalingPolicySpec;
  /** A decision every this many seconds. */
  syncSeconds: number;
  /** Each sample is the mean over this window ... */
  windowSeconds: number;
  /** ... which ends this long before the decision. */
  lagSeconds: number;
  config?: Partial<ControllerConfig>;
}

const BOUNDS = { minReplicas: 2, maxReplicas: 200 };

const CPU_50: ScalingPolicySpec["metrics"] = [
  { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } },
];

export const REFERENCE_POLICIES: readonly SimPolicy[] = Object.freeze([
  {
    name: "hpa-cpu",
    description: "HPA on cpu 50 %, 15 s sync, metrics 15–30 s old",
    spec: { ...BOUNDS, metrics: CPU_50 },
    syncSeconds: 15,
    windowSeconds: 15,
    lagSeconds: 15,
  },
  {
    name: "hpa-signals",
    description: "HPA core on cpu 50 %, pushed usage every 1 s",
    spec: { ...BOUNDS, metrics: CPU_50 },
    syncSeconds: 1,
    windowSeconds: 1,
    lagSeconds: 0,
  },
  {
    name: "ballast",
    description:
      "rps 75/pod + in-flight 4/pod pushed every 1 s, quick up, paced down, forecast and burst-headroom floors",
    spec: {
      ...BOUNDS,
      metrics: [
        { type: "Signal", signal: { name: "rps", target: { type: "AverageValue", averageValue: "75" } } },
        { type: "Signal", signal: { name: "inflight", target: { type: "AverageValue", averageValue: "4" } } },
      ],
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: 0,
          selectPolicy: "Max",
          // At most ×4 per 30 s, the time a new pod takes to become ready: a queue that formed counts
          // as in-flight work until new pods drain it, and doubling every 10 s on it compounded to
          // 200 replicas on the spike trace where under 100 were ever needed.
          policies: [
            { type: "Percent", value: 300, periodSeconds: 30 },
            { type: "Pods", value: 4, periodSeconds: 10 },
          ],
        },
        scaleDown: {
          stabilizationWindowSeconds: 120,
          selectPolicy: "Max",
          policies: [{ type: "Percent", value: 20, periodSeconds: 60 }],
        },
      },
      predictive: {
        metric: "rps",
        horizonSeconds: 600,
        bucketSeconds: 300,
        weekly: true,
        maxErrorPercent: 25,
      },
      // A pod violates the SLO above 90 req/s; five standard deviations of the last 7.5 minutes cover
      // the minute-scale bursts a fixed 75 % target lets through at the 2-replica floor.
      burstHeadroom: { metric: "rps", capacityPerPod: "90", sigmas: 5, windowSeconds: 450 },
    },
    syncSeconds: 1,
    windowSeconds: 1,
    lagSeconds: 0,
  },
] satisfies SimPolicy[]);
