// The Helm chart against the real API server: every template, rendered with the chart's values, is
// accepted by a server-side apply in dry-run mode. Helm itself is not on this machine, so the test renders the few
// constructs the templates use ({{ .Values.x }}, {{ .Release.Namespace }}, toYaml | nindent) and fails on
// any other, so a template change that needs real Helm is noticed here.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { KubernetesObjectApi, loadAllYaml, PatchStrategy } from "@kubernetes/client-node";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { parse, stringify } from "yaml";
import { repoRoot } from "../support/processes.js";
import { applyCrds, createNamespace, type Kube, kube } from "./harness.js";

const skip = inject("kubeSkip");
const chart = join(repoRoot, "charts/ballast");

function render(template: string, values: Record<string, unknown>, namespace: string): string {
  const lookup = (path: string) =>
    path.split(".").reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], values);
  return template.replace(/\{\{(-?)\s*([^}]*?)\s*(-?)\}\}/g, (_m, _l, expr: string) => {
    if (expr === ".Release.Namespace") return namespace;
    const toYaml = /^toYaml \.Values\.([\w.]+) \| nindent (\d+)$/.exec(expr);
    if (toYaml) {
      const pad = " ".repeat(Number(toYaml[2]));
      return `\n${stringify(lookup(toYaml[1] as string))
        .trimEnd()
        .split("\n")
        .map((l) => pad + l)
        .join("\n")}`;
    }
    const value = /^\.Values\.([\w.]+)$/.exec(expr);
    if (value) return String(lookup(value[1] as string));
    throw new Error(`template construct not rendered by this test: {{ ${expr} }}`);
  });
}

describe.skipIf(skip !== "")("Helm chart", () => {
  let k: Kube;
  let ns: string;
  beforeAll(async () => {
    k = kube(inject("kubeconfig"));
    await applyCrds(k);
    ns = await createNamespace(k, "chart");
  });

  it("renders to objects the API server accepts (server-side dry run)", async () => {
    const values = parse(readFileSync(join(chart, "values.yaml"), "utf8")) as Record<string, unknown>;
    const api = k.kc.makeApiClient(KubernetesObjectApi);
    const kinds: string[] = [];
    for (const file of readdirSync(join(chart, "templates")).filter((f) => f.endsWith(".yaml"))) {
      const text = render(readFileSync(join(chart, "templates", file), "utf8"), values, ns);
      for (const obj of loadAllYaml(text)) {
        if (!obj) continue;
        // Server-side apply, dry run: valid whether or not another test already created the object.
        await api.patch(obj, undefined, "All", "ballast-chart-test", true, PatchStrategy.ServerSideApply);
        kinds.push(obj.kind);
      }
    }
    expect(kinds.sort()).toEqual([
      "ClusterRole",
      "ClusterRoleBinding",
      "Deployment",
      "Service",
      "ServiceAccount",
    ]);
    expect(readFileSync(join(chart, "Chart.yaml"), "utf8")).toMatch(/^apiVersion: v2$/m);
  });
});
