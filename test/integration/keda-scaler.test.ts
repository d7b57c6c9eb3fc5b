// KEDA's external scaler served over Ballast's signals: real agents and SDK apps (two "pods" of
// Deployment/web) report a queue_backlog gauge to a real AgentLink server; a client generated from
// KEDA's proto asks for metric specs, values and activity, and a push stream fires on a load change.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keda } from "@ballast/proto";
import { credentials, type ServiceError, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKedaScaler } from "../../controller/src/api/keda-scaler.js";
import { AgentLinkServer } from "../../controller/src/ingest/agent-link-server.js";
import { PodRegistry } from "../../controller/src/ingest/pod-registry.js";
import { registrySignals } from "../../controller/src/metrics/workload-signals.js";
import { type PodProcess, signalPod, startPodProcess } from "../support/pod-process.js";
import { waitFor } from "../support/processes.js";

describe("KEDA external scaler", () => {
  const dir = mkdtempSync(join(tmpdir(), "ballast-keda-"));
  const loadFile = join(dir, "load.json");
  const registry = new PodRegistry();
  const clock = { now: () => Date.now() };
  const link = new AgentLinkServer({ registry, clock, log: () => {} });
  const pods: PodProcess[] = [];
  let scaler: Awaited<ReturnType<typeof startKedaScaler>>;
  let client: keda.ExternalScalerClient;
  const setLoad = (perPod: number) => {
    writeFileSync(`${loadFile}.tmp`, JSON.stringify({ default: perPod }));
    renameSync(`${loadFile}.tmp`, loadFile);
  };
  const ref = (md: Record<string, string>): keda.ScaledObjectRef => ({
    name: "web",
    namespace: "shop",
    scalerMetadata: md,
  });
  const unary = <Req, Res>(
    fn: (r: Req, cb: (e: ServiceError | null, res: Res) => void) => unknown,
    req: Req,
  ) => new Promise<Res>((resolve, reject) => fn.call(client, req, (e, r) => (e ? reject(e) : resolve(r))));

  beforeAll(async () => {
    setLoad(0);
    const port = await link.listen("127.0.0.1:0");
    for (const i of [0, 1]) {
      pods.push(
        startPodProcess({
          name: `web-${i}`,
          namespace: "shop",
          dir,
          controllers: [`127.0.0.1:${port}`],
          workload: "Deployment/web",
          env: { LOAD_FILE: loadFile },
        }),
      );
    }
    scaler = await startKedaScaler("127.0.0.1:0", {
      signals: registrySignals(registry),
      clock,
      log: () => {},
    });
    client = new keda.ExternalScalerClient(`127.0.0.1:${scaler.port}`, credentials.createInsecure());
  });

  afterAll(async () => {
    client?.close();
    await scaler?.close();
    for (const p of pods) signalPod(p, "SIGKILL");
    await link.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("gives metric specs, values in both int and float fields, and activity", async () => {
    const md = { signal: "queue_backlog", target: "2.5", activationThreshold: "1" };
    const spec = await unary<keda.ScaledObjectRef, keda.GetMetricSpecResponse>(client.getMetricSpec, ref(md));
    expect(spec.metricSpecs).toEqual([
      { metricName: "ballast-queue-backlog", targetSize: 3, targetSizeFloat: 2.5 },
    ]);

    setLoad(3.3);
    await waitFor(
      async () => {
        const r = await unary<keda.GetMetricsRequest, keda.GetMetricsResponse>(client.getMetrics, {
          scaledObjectRef: ref(md),
          metricName: "ballast-queue-backlog",
        }).catch(() => undefined);
        return r?.metricValues[0]?.metricValueFloat === 6.6 ? r : undefined;
      },
      15_000,
      "the workload's total backlog (2 pods × 3.3)",
    );
    const r = await unary<keda.GetMetricsRequest, keda.GetMetricsResponse>(client.getMetrics, {
      scaledObjectRef: ref(md),
      metricName: "ballast-queue-backlog",
    });
    expect(r.metricValues).toEqual([
      { metricName: "ballast-queue-backlog", metricValue: 7, metricValueFloat: 6.6 },
    ]);
    expect((await unary<keda.ScaledObjectRef, keda.IsActiveResponse>(client.isActive, ref(md))).result).toBe(
      true,
    );
  });

  it("pushes activity on a load change, and refuses bad metadata naming the key", async () => {
    const md = { signal: "queue_backlog", target: "5", activationThreshold: "1" };
    const stream = client.streamIsActive(ref(md));
    const seen: boolean[] = [];
    stream.on("data", (m: keda.IsActiveResponse) => seen.push(m.result));
    stream.on("error", () => {});
    await waitFor(() => seen.length >= 1, 10_000, "the first activity");
    setLoad(0);
    await waitFor(() => seen.includes(false), 10_000, `an inactive push (seen ${seen})`);
    setLoad(4);
    await waitFor(
      () => seen.lastIndexOf(true) > seen.indexOf(false),
      10_000,
      `an active push again (seen ${seen})`,
    );
    stream.cancel();

    const bad = await unary(client.getMetricSpec, ref({ signal: "queue_backlog", target: "-1" })).catch(
      (e: ServiceError) => e,
    );
    expect((bad as ServiceError).code).toBe(status.INVALID_ARGUMENT);
    expect((bad as ServiceError).details).toMatch(/^scalerMetadata\.target: must be a number above 0/);
  });

  it("answers UNAVAILABLE, never 0, when no pod reports", async () => {
    const e = await unary(client.getMetrics, {
      scaledObjectRef: {
        name: "api",
        namespace: "shop",
        scalerMetadata: { signal: "queue_backlog", target: "5" },
      },
      metricName: "x",
    }).catch((err: ServiceError) => err);
    expect((e as ServiceError).code).toBe(status.UNAVAILABLE);
    expect((e as ServiceError).details).toMatch(/no pod of Deployment\/api in shop reports queue_backlog/);
  });
});
