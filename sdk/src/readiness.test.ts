// Readiness gates, warming up, lazy agents, custom signals and the Prometheus export.
import { createServer, type Server } from "node:http";
import { LazyAgentState } from "@ballast/proto";
import { afterEach, describe, expect, it } from "vitest";
import { Ballast } from "./ballast.js";
import { prometheusRegistry } from "./prometheus.js";

const opts = { handleSignals: false, agentSocket: "" };
let b: Ballast | undefined;
let server: Server | undefined;
afterEach(async () => {
  await b?.close();
  server?.close();
  b = undefined;
  server = undefined;
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("readiness", () => {
  it("is ready only after ready() and every named gate; a reset gate makes it unready again", () => {
    b = new Ballast(opts);
    const db = b.gate("db");
    const cache = b.gate("cache.warm");
    b.ready();
    expect(b.state()).toMatchObject({ ready: false, pendingGates: ["db", "cache.warm"] });
    db.resolve();
    expect(b.isReady).toBe(false);
    cache.resolve();
    expect(b.state()).toMatchObject({ ready: true, pendingGates: [] });
    db.reset();
    expect(b.state()).toMatchObject({ ready: false, pendingGates: ["db"] });
    expect(() => b?.gate("Bad Name")).toThrow(/gate name/);
  });

  it("warms up until ready and for warmupMs after, and says so in the window", async () => {
    b = new Ballast({ ...opts, warmupMs: 80 });
    b.startWindows();
    expect(b.isWarmingUp()).toBe(true);
    b.ready();
    expect(b.isWarmingUp()).toBe(true);
    await sleep(100);
    expect(b.isWarmingUp()).toBe(false);
    expect(b.meter.take().warmingUp).toBe(true); // the window saw the warm-up
    expect(b.meter.take().warmingUp).toBe(false);
  });
});

describe("lazy agents", () => {
  it("loads a lazy agent only after ready and a calm loop, and reports its load time", async () => {
    b = new Ballast(opts);
    let loaded = false;
    const agent = b.lazyAgent(
      "tracer",
      async () => {
        await sleep(20);
        loaded = true;
        return { flushes: 0 };
      },
      { calmForMs: 100 },
    );
    await sleep(200);
    expect(agent.state).toBe("pending");
    expect(loaded).toBe(false);
    b.ready();
    expect(b.isReady).toBe(true); // a lazy agent never holds readiness
    await sleep(80);
    expect(agent.state).toBe("pending"); // the loop must be calm for 100 ms first
    await sleep(250);
    expect(agent.state).toBe("loaded");
    expect(agent.loadMs).toBeGreaterThanOrEqual(15);
    expect(b.state().lazyAgents).toEqual([
      expect.objectContaining({
        name: "tracer",
        state: LazyAgentState.LAZY_AGENT_STATE_LOADED,
        preloaded: false,
      }),
    ]);
  });

  it("waits while the event loop is busy", async () => {
    b = new Ballast(opts);
    const agent = b.lazyAgent("profiler", () => 1, { calmForMs: 150, calmDelayMs: 10 });
    b.ready();
    const until = performance.now() + 400;
    while (performance.now() < until) {
      const busy = performance.now() + 30;
      while (performance.now() < busy) {
        // the loop cannot turn
      }
      await sleep(1);
    }
    expect(agent.state).toBe("pending");
    await sleep(300);
    expect(agent.state).toBe("loaded");
  });

  it("preloads a must-preload agent and holds readiness until it is in", async () => {
    b = new Ballast(opts);
    const agent = b.lazyAgent(
      "apm",
      async () => {
        await sleep(50);
        return "apm";
      },
      { mustPreload: true },
    );
    b.ready();
    expect(agent.state).toBe("loading");
    expect(b.state()).toMatchObject({ ready: false, pendingGates: ["lazy.apm"] });
    await sleep(80);
    expect(agent.value).toBe("apm");
    expect(b.isReady).toBe(true);
    expect(b.state().lazyAgents[0]).toMatchObject({
      preloaded: true,
      state: LazyAgentState.LAZY_AGENT_STATE_LOADED,
    });
  });

  it("reports a loader failure and a timeout without crashing the app", async () => {
    b = new Ballast(opts);
    const broken = b.lazyAgent("broken", () => {
      throw new Error("cannot find module 'x'");
    });
    const stuck = b.lazyAgent("stuck", () => new Promise(() => {}), { timeoutMs: 50 });
    await expect(broken.load()).rejects.toThrow(/cannot find module/);
    await expect(stuck.load()).rejects.toThrow(/still running after 50 ms/);
    const st = b.state().lazyAgents;
    expect(st.map((s) => s.state)).toEqual([
      LazyAgentState.LAZY_AGENT_STATE_FAILED,
      LazyAgentState.LAZY_AGENT_STATE_FAILED,
    ]);
    expect(st[0]?.error).toMatch(/cannot find module/);
  });

  it("flushes loaded agents in the drain's flush step", async () => {
    b = new Ballast(opts);
    let flushedWith = -1;
    const agent = b.lazyAgent("exporter", () => "x", { flush: (_a, budget) => (flushedWith = budget) });
    await agent.load();
    expect(await b.drain(1000)).toBe(true);
    expect(flushedWith).toBeGreaterThan(0);
    expect(flushedWith).toBeLessThanOrEqual(1000);
    expect(b.drainEvents.map((e) => e.step)).toEqual([
      "not-ready",
      "goaway",
      "stop-accepting",
      "idle",
      "flushed",
      "drained",
    ]);
  });
});

describe("signals", () => {
  it("reports counters as growth per window and GC pause time", async () => {
    b = new Ballast(opts);
    b.startWindows();
    const jobs = b.counter("jobs_done");
    jobs.inc();
    jobs.inc(4);
    jobs.inc(-3); // ignored
    // Enough garbage to make V8 collect.
    let keep: number[][] = [];
    for (let i = 0; i < 200; i++) keep.push(new Array(50_000).fill(i));
    keep = [];
    await sleep(20);
    const w = b.meter.take();
    expect(w.counters).toEqual({ jobs_done: 5 });
    expect(w.gcPauseMs).toBeGreaterThan(0);
    expect(b.meter.take().counters).toEqual({ jobs_done: 0 });
    expect(keep).toHaveLength(0);
  });
});

describe("Prometheus export", () => {
  it("exposes the same signals through prom-client, read from the latest window", async () => {
    server = createServer((req, res) => {
      res.statusCode = req.url === "/boom" ? 500 : 200;
      res.end();
    });
    b = new Ballast(opts).attachHttp(server);
    b.gauge("queue_backlog", () => 7);
    b.counter("jobs_done").inc(3);
    b.ready();
    const registry = await prometheusRegistry(b);
    await new Promise<void>((r) => server?.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    await fetch(`http://127.0.0.1:${port}/`);
    await fetch(`http://127.0.0.1:${port}/boom`);
    b.meter.take();
    const text = await registry.metrics();
    expect(text).toContain("ballast_requests_total 2");
    expect(text).toContain("ballast_request_errors_total 1");
    expect(text).toMatch(/ballast_request_duration_seconds_bucket\{le="\+Inf"\} 2/);
    expect(text).toContain("ballast_request_duration_seconds_count 2");
    expect(text).toContain('ballast_gauge{name="queue_backlog"} 7');
    expect(text).toContain('ballast_counter_total{name="jobs_done"} 3');
    expect(text).toContain("ballast_ready 1");
    expect(text).toMatch(/ballast_event_loop_delay_seconds\{stat="p99"\} \d/);
    expect(text).toContain("# TYPE ballast_request_duration_seconds histogram");
  });
});
