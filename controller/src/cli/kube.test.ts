import { describe, expect, it } from "vitest";
import { FlagError } from "./flag-error.js";
import { kubeOptions } from "./kube.js";

describe("ballast kube flags", () => {
  it("has sound defaults", () => {
    expect(kubeOptions([])).toMatchObject({
      agentListen: "0.0.0.0:7070",
      leaseName: "ballast-controller",
      syncPeriodMs: 1000,
      leaseDurationMs: 15_000,
    });
  });

  it("names the offending flag", () => {
    expect(() => kubeOptions(["--sync-period-ms", "5"])).toThrow(
      /^--sync-period-ms: must be an integer from 100 to 60000, got "5"$/,
    );
    expect(() => kubeOptions(["--agent-listen", "nowhere"])).toThrow(/^--agent-listen: expected HOST:PORT/);
    expect(() => kubeOptions(["--lease-duration-seconds", "2", "--lease-retry-ms", "3000"])).toThrow(
      /^--lease-retry-ms/,
    );
    expect(() => kubeOptions(["--bogus"])).toThrow(FlagError);
    expect(() => kubeOptions(["--prometheus-url", "prometheus:9090"])).toThrow(
      /^--prometheus-url: expected an http\(s\) URL, got "prometheus:9090"$/,
    );
    expect(kubeOptions(["--prometheus-url", "http://prometheus.monitoring:9090/prom"]).prometheusUrl).toBe(
      "http://prometheus.monitoring:9090/prom",
    );
  });
});
