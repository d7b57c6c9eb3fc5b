// The hello-world example the SDK benches measure: each of its modes does what the benches' figures
// assume (plain has no SDK, background reports to the agent without counting requests, instrumented
// counts every request).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LoadReport } from "@ballast/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppRegistry } from "../../agent/src/app-registry.js";
import { PodLinkServer } from "../../agent/src/pod-link-server.js";
import { runHelloWorld, waitFor } from "../support/processes.js";

const dir = mkdtempSync(join(tmpdir(), "ballast-hello-world-"));
const socket = join(dir, "agent.sock");
const registry = new AppRegistry();
const podLink = new PodLinkServer({ socketPath: socket, registry, reportIntervalMs: 1000, log: () => {} });
const reports = new Map<number, LoadReport[]>();
const realAddLoad = registry.addLoad.bind(registry);
registry.addLoad = (app, report) => {
  reports.set(app.pid, [...(reports.get(app.pid) ?? []), report]);
  realAddLoad(app, report);
};

beforeAll(() => podLink.start());
afterAll(() => {
  podLink.forceStop();
  rmSync(dir, { recursive: true, force: true });
});

async function serveAndLoad(mode: string, requests: number) {
  const { port, proc } = await runHelloWorld(mode, socket);
  for (let i = 0; i < requests; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(await res.text()).toBe("hello world\n");
  }
  return proc;
}

const completed = (pid: number) => (reports.get(pid) ?? []).reduce((n, r) => n + r.requestsCompleted, 0);

describe("hello-world example", () => {
  it("instrumented counts every request; background reports without counting; plain has no SDK", async () => {
    const inst = await serveAndLoad("1", 40);
    const background = await serveAndLoad("background", 40);
    const plain = await serveAndLoad("0", 40);
    try {
      const instPid = inst.child.pid as number;
      const bgPid = background.child.pid as number;
      await waitFor(() => completed(instPid) >= 40, 5000, "the instrumented server's 40 requests");
      await waitFor(() => (reports.get(bgPid) ?? []).length > 0, 5000, "a report from the background SDK");
      expect(completed(instPid)).toBe(40);
      expect(completed(bgPid)).toBe(0);
      const apps = registry.list().map((a) => a.pid);
      expect(apps).toContain(instPid);
      expect(apps).toContain(bgPid);
      expect(apps).not.toContain(plain.child.pid);
    } finally {
      await Promise.all([inst.stop(), background.stop(), plain.stop()]);
    }
  });
});
