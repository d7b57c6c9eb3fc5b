// Malformed, oversized, non-finite and wrong-version messages are refused with a gRPC status naming the
// field, and the peer that sent them is the only one affected.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AgentLinkClient,
  type AgentMessage,
  CLIENT_CHANNEL_OPTIONS,
  DrainState,
  type LoadReport,
  PodLinkClient,
  PROTOCOL_VERSION,
} from "@ballast/proto";
import { credentials, type ServiceError, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentLinkServer } from "../../controller/src/ingest/agent-link-server.js";
import { PodRegistry } from "../../controller/src/ingest/pod-registry.js";
import { agentCli, freePort, type Proc, run, waitFor } from "../support/processes.js";

const registry = new PodRegistry();
const server = new AgentLinkServer({ registry, clock: { now: () => Date.now() }, log: () => {} });
let client: AgentLinkClient;

function load(): LoadReport {
  const now = Date.now();
  return {
    windowStart: new Date(now - 1000),
    windowEnd: new Date(now),
    inflightNow: 1,
    inflightAvg: 1,
    inflightMax: 1,
    requestsCompleted: 0,
    errors: 0,
    latency: undefined,
    eventLoop: undefined,
    heap: undefined,
    gauges: {},
    gcPauseMs: 0,
    warmingUp: false,
    counters: {},
  };
}

function hello(pod: string, protocolVersion: number = PROTOCOL_VERSION): AgentMessage {
  return {
    body: {
      $case: "hello",
      value: {
        protocolVersion,
        agentVersion: "test",
        reportIntervalMs: 1000,
        pod: { namespace: "default", podName: pod, uid: "", nodeName: "", containers: [], address: "" },
      },
    },
  };
}

function report(seq: number, l: LoadReport = load()): AgentMessage {
  return {
    body: {
      $case: "report",
      value: {
        seq,
        at: new Date(),
        droppedReports: 0,
        apps: [{ serviceName: "web", pid: 1, ready: true, drain: DrainState.DRAIN_STATE_SERVING, load: l }],
      },
    },
  };
}

/** Opens a stream, writes the messages, and resolves with the status the server ended it with. */
function refusal(messages: AgentMessage[]): Promise<ServiceError> {
  const call = client.connect();
  return new Promise((resolve) => {
    call.on("error", (e: ServiceError) => resolve(e));
    call.on("data", () => {});
    for (const m of messages) call.write(m);
  });
}

beforeAll(async () => {
  const port = await server.listen("127.0.0.1:0");
  client = new AgentLinkClient(`127.0.0.1:${port}`, credentials.createInsecure(), CLIENT_CHANNEL_OPTIONS);
});

afterAll(async () => {
  client.close();
  await server.close();
});

describe("controller AgentLink server", () => {
  it("refuses NaN, ∞ and negatives by field, and keeps serving a well-behaved agent", async () => {
    const good = client.connect();
    good.on("data", () => {});
    good.on("error", () => {});
    good.write(hello("good-pod"));
    good.write(report(1));
    await waitFor(() => registry.get("default", "good-pod")?.reports.length === 1, 5000, "the good report");

    const nan = await refusal([hello("bad-pod"), report(1, { ...load(), inflightAvg: Number.NaN })]);
    expect(nan.code).toBe(status.INVALID_ARGUMENT);
    expect(nan.details).toContain("report.apps[0].load.inflight_avg");
    const inf = await refusal([
      hello("bad-pod"),
      report(1, { ...load(), inflightAvg: Number.POSITIVE_INFINITY }),
    ]);
    expect(inf.details).toContain("report.apps[0].load.inflight_avg");
    const negative = report(1);
    if (negative.body?.$case === "report") {
      negative.body.value.cgroup = {
        available: true,
        unavailableReason: "",
        version: 2,
        cpuCores: -1,
        memoryBytes: 0,
        cpuLimitCores: 0,
        memoryLimitBytes: 0,
        source: "cgroup",
      };
    }
    const neg = await refusal([hello("bad-pod"), negative]);
    expect(neg.details).toBe("report.cgroup.cpu_cores: must not be negative, got -1");

    good.write(report(2));
    await waitFor(
      () => registry.get("default", "good-pod")?.reports.length === 2,
      5000,
      "the good agent to go on",
    );
    good.end();
  });

  it("refuses an unknown protocol version, naming the field", async () => {
    const e = await refusal([hello("future-pod", 99)]);
    expect(e.code).toBe(status.INVALID_ARGUMENT);
    expect(e.details).toMatch(/^hello\.protocol_version: unsupported protocol version 99/);
  });

  it("refuses a stream that does not open with hello", async () => {
    const e = await refusal([report(1)]);
    expect(e.details).toContain("first message of a stream must be hello");
  });

  it("refuses an oversized message", async () => {
    const big = { ...load(), gauges: { huge: 1 } } as LoadReport;
    const msg = report(1, big);
    if (msg.body?.$case === "report") msg.body.value.apps[0]!.serviceName = "x".repeat(2 * 1024 * 1024);
    const e = await refusal([hello("big-pod"), msg]);
    expect(e.code).toBe(status.RESOURCE_EXHAUSTED);
  });
});

describe("agent PodLink server (real agent process)", () => {
  let agent: Proc;
  const dir = mkdtempSync(join(tmpdir(), "ballast-bad-"));
  const socket = join(dir, "agent.sock");
  let probePort: number;

  beforeAll(async () => {
    probePort = await freePort();
    agent = run(agentCli, [
      `--socket=${socket}`,
      "--probe-host=127.0.0.1",
      `--probe-port=${probePort}`,
      "--usage-source=none",
    ]);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${probePort}/livez`)).ok, 10_000, "the agent");
  });

  afterAll(async () => {
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("ends only the offending app's stream, naming the field", async () => {
    const good = new PodLinkClient(`unix://${socket}`, credentials.createInsecure(), CLIENT_CHANNEL_OPTIONS);
    const goodCall = good.connect();
    goodCall.on("data", () => {});
    goodCall.on("error", () => {});
    goodCall.write({
      body: {
        $case: "hello",
        value: {
          serviceName: "good",
          pid: 10,
          sdkVersion: "t",
          protocolVersion: PROTOCOL_VERSION,
          runtime: "",
        },
      },
    });
    goodCall.write({
      body: {
        $case: "state",
        value: {
          ready: true,
          drain: DrainState.DRAIN_STATE_SERVING,
          inflight: 0,
          warmingUp: false,
          pendingGates: [],
          lazyAgents: [],
        },
      },
    });
    await waitFor(async () => (await fetch(`http://127.0.0.1:${probePort}/readyz`)).ok, 5000, "ready");

    const bad = new PodLinkClient(`unix://${socket}`, credentials.createInsecure(), CLIENT_CHANNEL_OPTIONS);
    const badCall = bad.connect();
    const err = new Promise<ServiceError>((resolve) => badCall.on("error", resolve));
    badCall.on("data", () => {});
    badCall.write({
      body: {
        $case: "hello",
        value: {
          serviceName: "bad",
          pid: 11,
          sdkVersion: "t",
          protocolVersion: PROTOCOL_VERSION,
          runtime: "",
        },
      },
    });
    badCall.write({
      body: {
        $case: "report",
        value: {
          ...load(),
          eventLoop: { delayP50Ms: 0, delayP99Ms: 0, delayMaxMs: 0, delayMeanMs: 0, utilization: -0.5 },
        },
      },
    });
    const e = await err;
    expect(e.code).toBe(status.INVALID_ARGUMENT);
    expect(e.details).toBe("report.event_loop.utilization: must not be negative, got -0.5");
    // The bad app is gone; the good one still makes the pod ready.
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${probePort}/readyz`)).ok,
      5000,
      "ready after the refusal",
    );
    goodCall.end();
    good.close();
    bad.close();
  });
});
