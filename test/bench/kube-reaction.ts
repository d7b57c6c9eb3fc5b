// kube.reaction_p50_ms / kube.reaction_p99_ms: on the real control plane, the time from the moment the
// pods' backlog crosses the target (the load file the apps read is rewritten) to the moment a watch on
// the Deployment sees the new spec.replicas written through /scale. Steps alternate between 2 and 5
// replicas' worth of backlog; each step waits until the pods and their agents have settled.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type V1Deployment, Watch } from "@kubernetes/client-node";
import { startCluster } from "../cluster/cluster.js";
import {
  applyCrds,
  controllerKubeconfig,
  createDeployment,
  createNamespace,
  createPolicy,
  kube,
  PodAgents,
  signalPolicy,
  startController,
} from "../kube/harness.js";
import { freePort, repoRoot, waitFor } from "../support/processes.js";
import type { Figure } from "./figure.js";

const STEPS = 24;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

export async function kubeReaction(): Promise<Figure[]> {
  let binDir: string;
  try {
    binDir = execFileSync("bash", [join(repoRoot, "test/cluster/build.sh")], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    })
      .trim()
      .split("\n")
      .pop() as string;
  } catch (e) {
    process.stderr.write(`  kube-reaction skipped: no control plane (${(e as Error).message})\n`);
    return [];
  }
  const dir = mkdtempSync(join(tmpdir(), "ballast-bench-kube-"));
  const cluster = await startCluster({ binDir, nodes: 3 });
  const k = kube(cluster.kubeconfigPath);
  let pods: PodAgents | undefined;
  const port = await freePort();
  let controller: ReturnType<typeof startController> | undefined;
  const stopWatch: { abort?: () => void } = {};
  try {
    await applyCrds(k);
    controller = startController({
      kubeconfig: await controllerKubeconfig(k, dir),
      identity: "bench",
      agentPort: port,
      leaseName: "ballast-bench",
    });
    const ns = await createNamespace(k, "bench");
    await createDeployment(k, ns, "web", 2);
    pods = new PodAgents(k, ns, "app=web", [`127.0.0.1:${port}`], dir);
    await pods.start();
    pods.setTotal(20);
    await createPolicy(
      k,
      ns,
      signalPolicy(
        "web",
        { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
        { downWindow: 0, max: 10 },
      ),
    );

    // Every spec.replicas the watch sees, with the time it arrived.
    const seen: { replicas: number; at: number }[] = [];
    const ac = await new Watch(k.kc).watch(
      `/apis/apps/v1/namespaces/${ns}/deployments`,
      { fieldSelector: "metadata.name=web" },
      (_type, obj: V1Deployment) => seen.push({ replicas: obj.spec?.replicas ?? -1, at: performance.now() }),
      () => {},
    );
    stopWatch.abort = () => ac.abort();
    const settled = async (replicas: number) => {
      await waitFor(() => pods?.running().length === replicas, 30_000, `${replicas} pods with agents`);
      await new Promise((r) => setTimeout(r, 1500)); // agents of new pods connected and reporting
    };
    await settled(2);
    const samples: number[] = [];
    for (let i = 0; i < STEPS; i++) {
      const target = i % 2 === 0 ? 5 : 2;
      const from = seen.length;
      const t0 = performance.now();
      pods.setTotal(target * 10);
      const hit = await waitFor(
        () => seen.slice(from).find((s) => s.replicas === target),
        20_000,
        `replicas ${target}`,
      );
      samples.push(hit.at - t0);
      await settled(target);
    }
    samples.sort((a, b) => a - b);
    process.stderr.write(`  reaction samples (ms): ${samples.map((s) => Math.round(s)).join(" ")}\n`);
    return [
      { name: "kube.reaction_p50_ms", value: Math.round(quantile(samples, 0.5)), unit: "ms" },
      { name: "kube.reaction_p99_ms", value: Math.round(quantile(samples, 0.99)), unit: "ms" },
    ];
  } finally {
    stopWatch.abort?.();
    await pods?.stop();
    await controller?.stop();
    await cluster.stop({ removeRunDir: true });
    rmSync(dir, { recursive: true, force: true });
  }
}
