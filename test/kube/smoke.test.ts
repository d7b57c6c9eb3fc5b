// The kube tier's control plane is real: nodes Ready, a Deployment's pods scheduled and Running on kwok.
import { AppsV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { describe, expect, inject, it } from "vitest";

const skip = inject("kubeSkip");

describe.skipIf(skip !== "")("the test control plane", () => {
  it("schedules a Deployment's pods on kwok nodes", async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(inject("kubeconfig"));
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const nodes = await core.listNode();
    expect(nodes.items.length).toBe(3);
    const ns = `smoke-${Date.now()}`;
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: "web" },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: "web" } },
          template: {
            metadata: { labels: { app: "web" } },
            spec: { containers: [{ name: "web", image: "example.invalid/web:1" }] },
          },
        },
      },
    });
    let running = 0;
    for (let i = 0; i < 100 && running < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const pods = await core.listNamespacedPod({ namespace: ns });
      running = pods.items.filter((p) => p.status?.phase === "Running" && p.spec?.nodeName).length;
    }
    expect(running).toBe(2);
    await core.deleteNamespace({ name: ns });
  });
});
