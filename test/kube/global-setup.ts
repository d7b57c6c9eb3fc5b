// Starts one real control plane (etcd, kube-apiserver, KCM, scheduler, kwok) for the kube test tier.
// The binaries come from test/cluster/build.sh: cached, reused from BALLAST_K8S_BIN/KUBEBUILDER_ASSETS,
// or built with Go. Without cached binaries and without Go the tier is skipped, and says why.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { type Cluster, startCluster } from "../cluster/cluster.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Path of the admin kubeconfig, or "" when the tier is skipped. */
    kubeconfig: string;
    /** Directory with the cluster binaries (kubectl among them). */
    k8sBin: string;
    /** Why the tier is skipped; "" when it runs. */
    kubeSkip: string;
  }
}

const root = join(import.meta.dirname, "..", "..");

const NEEDED = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kwok",
  "kwok-stages.yaml",
];

/** The binaries' directory, or undefined when there are none and Go cannot build them. */
function controlPlaneBin(): string | undefined {
  const haveGo = spawnSync("go", ["version"], { stdio: "ignore" }).status === 0;
  if (!haveGo) {
    // build.sh needs Go even to find its cache; a complete BALLAST_K8S_BIN is used as is.
    const dir = process.env.BALLAST_K8S_BIN;
    return dir && NEEDED.every((f) => existsSync(join(dir, f))) ? dir : undefined;
  }
  const started = Date.now();
  process.stderr.write(
    "kube tier: locating or building the control-plane binaries (test/cluster/build.sh)\n",
  );
  const out = execFileSync("bash", [join(root, "test/cluster/build.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  process.stderr.write(`kube tier: binaries ready after ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return out.trim().split("\n").pop();
}

let cluster: Cluster | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const binDir = controlPlaneBin();
  if (!binDir) {
    const why =
      "no Go toolchain to build the control plane and no complete BALLAST_K8S_BIN (see test/cluster/README.md)";
    if (process.env.BALLAST_REQUIRE_KUBE)
      throw new Error(`kube tier required (BALLAST_REQUIRE_KUBE) but ${why}`);
    process.stderr.write(`kube tier SKIPPED: ${why}\n`);
    project.provide("kubeconfig", "");
    project.provide("k8sBin", "");
    project.provide("kubeSkip", why);
    return async () => {};
  }
  cluster = await startCluster({ binDir, nodes: 3 });
  project.provide("kubeconfig", cluster.kubeconfigPath);
  project.provide("k8sBin", binDir);
  project.provide("kubeSkip", "");
  return async () => {
    await cluster?.stop({ removeRunDir: true });
  };
}
