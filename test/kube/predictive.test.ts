// Predictive scaling end to end: a real Prometheus holds three days of a workload's demand (backfilled)
// and scrapes its live value; `ballast kube --prometheus-url` reads that history at start-up, and the
// forecast floor scales the Deployment ahead of the live signal, with its reason in status and Events.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freePort, type Proc, waitFor } from "../support/processes.js";
import { type PrometheusServer, prometheusMissing, startPrometheus } from "../support/prometheus.js";
import {
  applyCrds,
  controllerKubeconfig,
  createDeployment,
  createNamespace,
  createPolicy,
  type Kube,
  kube,
  PodAgents,
  readPolicy,
  startController,
} from "./harness.js";

const skip = inject("kubeSkip");
const missing = prometheusMissing();
if (missing && !process.env.BALLAST_REQUIRE_PROMETHEUS)
  process.stderr.write(`kube predictive: SKIPPED: ${missing}\n`);

const DAY = 86_400;
/** The workload's total backlog at Unix second `t`: a daily wave between 25 and 55. */
const demand = (t: number) => Math.round((40 + 15 * Math.sin((2 * Math.PI * t) / DAY)) * 1000) / 1000;

/** The same series the live scrape makes (job and instance labels), for the days before it. */
function history(from: number, to: number, instance: string): string {
  const lines = ["# TYPE shop_backlog gauge"];
  for (let t = from; t <= to; t += 60)
    lines.push(`shop_backlog{instance="${instance}",job="live"} ${demand(t)} ${t}`);
  return `${lines.join("\n")}\n# EOF\n`;
}

describe.skipIf(skip !== "" || (missing !== undefined && !process.env.BALLAST_REQUIRE_PROMETHEUS))(
  "kube mode: predictive floor from Prometheus history",
  () => {
    let k: Kube;
    let dir: string;
    let prometheus: PrometheusServer;
    let live: Server;
    let controller: Proc;
    let agentPort: number;
    let agents: PodAgents | undefined;

    beforeAll(async () => {
      expect(missing, "BALLAST_REQUIRE_PROMETHEUS is set").toBeUndefined();
      k = kube(inject("kubeconfig"));
      dir = mkdtempSync(join(tmpdir(), "ballast-predictive-"));
      await applyCrds(k);
      // The live value, as an exporter would serve it.
      live = createServer((_req, res) => {
        res.setHeader("Content-Type", "text/plain; version=0.0.4");
        res.end(`shop_backlog ${demand(Date.now() / 1000)}\n`);
      });
      const livePort = await freePort();
      await new Promise<void>((r) => live.listen(livePort, "127.0.0.1", r));
      // Backfilled blocks must end before Prometheus' head; the scrape covers the last stretch.
      const now = Math.floor(Date.now() / 1000);
      prometheus = await startPrometheus({
        openMetrics: history(now - 3 * DAY, now - 3 * 3600, `127.0.0.1:${livePort}`),
        scrape: { target: `127.0.0.1:${livePort}`, intervalSeconds: 1 },
      });
      await waitFor(
        async () => {
          const r = await fetch(`${prometheus.url}/api/v1/query?query=shop_backlog`);
          return ((await r.json()) as { data: { result: unknown[] } }).data.result.length > 0;
        },
        15_000,
        "the first live scrape",
      );
      const kubeconfig = await controllerKubeconfig(k, dir);
      agentPort = await freePort();
      controller = startController({
        kubeconfig,
        identity: "predictive",
        agentPort,
        leaseName: "ballast-predictive",
        extra: ["--prometheus-url", prometheus.url],
      });
    }, 120_000);

    afterAll(async () => {
      await agents?.stop();
      await controller?.stop();
      await prometheus?.stop();
      await new Promise((r) => live?.close(r));
      rmSync(dir, { recursive: true, force: true });
    });

    it("warms the forecast from history and raises the count to its floor before the signal asks", async () => {
      const ns = await createNamespace(k, "predict");
      await createDeployment(k, ns, "shop", 1);
      agents = new PodAgents(k, ns, "app=shop", [`127.0.0.1:${agentPort}`], join(dir, ns));
      await agents.start();
      // The live signal alone asks for 1 replica (a backlog of 2 at 10 per pod).
      agents.setTotal(2);
      await createPolicy(k, ns, {
        apiVersion: "autoscaling.ballast.dev/v1alpha1",
        kind: "ScalingPolicy",
        metadata: { name: "shop" },
        spec: {
          targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "shop" },
          minReplicas: 1,
          maxReplicas: 8,
          metrics: [
            {
              type: "Signal",
              signal: { name: "queue_backlog", target: { type: "AverageValue", averageValue: "10" } },
            },
          ],
          predictive: {
            bucketSeconds: 300,
            horizonSeconds: 600,
            weekly: false,
            history: { prometheus: { query: "shop_backlog", lookbackDays: 3 } },
          },
        },
      });
      const now = Date.now() / 1000;
      let peak = 0;
      for (let t = now; t <= now + 600; t += 10) peak = Math.max(peak, demand(t));
      const floor = Math.ceil(peak / 10);
      const status = await waitFor(
        async () => {
          const s = (await readPolicy(k, ns, "shop")).status;
          // The live signal alone asks for 1; the floor holds the count at the forecast's.
          const signalAlone = s?.lastDecision?.proposals[0]?.replicas;
          return s?.predictive?.state === "Active" && s.desiredReplicas === floor && signalAlone === 1
            ? s
            : undefined;
        },
        30_000,
        `status.predictive Active and ${floor} replicas`,
      ).catch(async (e) => {
        throw new Error(
          `${e.message}\n${JSON.stringify((await readPolicy(k, ns, "shop")).status)}\n${controller.output().slice(-3000)}`,
        );
      });
      expect(status.predictive?.mapePercent).toBeLessThan(5);
      const stage = status.lastDecision?.stages.find((s) => s.stage === "predictive");
      expect(stage?.reason).toMatch(
        /^forecast [\d.]+ of signal queue_backlog within 10 min at 10\/pod needs \d+ \(backtest MAPE [\d.]+ %\)$/,
      );
      await waitFor(
        async () =>
          (await k.apps.readNamespacedDeployment({ name: "shop", namespace: ns })).spec?.replicas === floor,
        20_000,
        `the Deployment at ${floor}`,
      );
      const events = (await k.core.listNamespacedEvent({ namespace: ns })).items.filter(
        (e) => e.involvedObject.name === "shop" && e.involvedObject.kind === "ScalingPolicy",
      );
      expect(events.find((e) => e.reason === "HistoryLoaded")?.message).toMatch(
        /^\d+ points of demand history over 3 days from Prometheus$/,
      );
    }, 90_000);
  },
);
