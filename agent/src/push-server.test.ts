import { createServer, type Server } from "node:http";
import { DrainState } from "@ballast/proto";
import { afterEach, describe, expect, it } from "vitest";
import { AppRegistry } from "./app-registry.js";
import { gaugeName, PrometheusScraper, parsePrometheusText } from "./prometheus-scrape.js";
import { MAX_PUSH_BYTES, PushServer } from "./push-server.js";

const stops: Array<() => unknown> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

async function pushServer(registry = new AppRegistry()) {
  const push = new PushServer({ host: "127.0.0.1", port: 0, registry, staleAfterMs: 200, log: () => {} });
  const port = await push.start();
  stops.push(() => push.stop());
  const post = async (body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/push`, {
      method: "POST",
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  return { push, registry, post };
}

describe("HTTP/JSON push for apps without the SDK", () => {
  it("turns pushes into an app with state and load windows, and hands commands back", async () => {
    const { registry, post } = await pushServer();
    const ok = await post({
      service: "billing",
      pid: 4242,
      ready: true,
      inflight: 3,
      completed: 10,
      errors: 1,
      latency_sum_ms: 250,
      gauges: { queue_backlog: 12 },
    });
    expect(ok).toEqual({ status: 200, json: { commands: [] } });
    const [app] = registry.list();
    expect(app).toMatchObject({ serviceName: "billing", pid: 4242, state: { ready: true, inflight: 3 } });
    expect(registry.ready).toBe(true);
    const [report] = registry.takeReports();
    expect(report?.load).toMatchObject({
      requestsCompleted: 10,
      errors: 1,
      inflightNow: 3,
      gauges: { queue_backlog: 12 },
    });

    registry.broadcast({ body: { $case: "drain", value: { deadlineMs: 5000, reason: "preStop" } } });
    const next = await post({ service: "billing", pid: 4242, drain: "draining" });
    expect(next.json).toEqual({ commands: [{ drain: { deadlineMs: 5000, reason: "preStop" } }] });
    expect(registry.draining).toBe(true);
    expect(registry.ready).toBe(false);
    await post({ service: "billing", pid: 4242, drain: "drained" });
    expect(registry.drained).toBe(true);
  });

  it("refuses bad pushes naming the field, and oversized bodies", async () => {
    const { post, registry } = await pushServer();
    expect(await post("{nope")).toMatchObject({ status: 400 });
    expect(await post({ pid: 1 })).toMatchObject({ status: 400, json: { field: "service" } });
    expect(await post({ service: "Bad Name", pid: 1 })).toMatchObject({
      status: 400,
      json: { field: "service" },
    });
    expect(await post({ service: "a", pid: -1 })).toMatchObject({ status: 400, json: { field: "pid" } });
    expect(await post({ service: "a", pid: 1, completed: 1, errors: 2 })).toMatchObject({
      json: { field: "errors" },
    });
    expect(await post({ service: "a", pid: 1, gauges: { "Bad-Name": 1 } })).toMatchObject({
      json: { field: 'push.gauges["Bad-Name"]' },
    });
    expect(await post({ service: "a", pid: 1, drain: "maybe" })).toMatchObject({ json: { field: "drain" } });
    expect(await post({ service: "a", pid: 1, pad: "x".repeat(MAX_PUSH_BYTES) })).toMatchObject({
      status: 413,
    });
    expect(registry.list()).toHaveLength(0);
  });

  it("stays bounded under a flood: at most 16 apps, stale ones removed", async () => {
    const { push, post, registry } = await pushServer();
    for (let i = 1; i <= 20; i++) {
      const r = await post({ service: "w", pid: i, completed: 1 });
      expect(r.status).toBe(i <= 16 ? 200 : 429);
    }
    for (let i = 0; i < 500; i++) await post({ service: "w", pid: 1, completed: 1 });
    const app = registry.list()[0];
    expect(app?.pending.length).toBeLessThanOrEqual(33);
    push.sweep(Date.now() + 1000);
    expect(registry.list()).toHaveLength(0);
  });
});

describe("Prometheus scrape for apps without the SDK", () => {
  it("parses the text format", () => {
    const samples = parsePrometheusText(
      [
        "# HELP http_requests_total Requests.",
        "# TYPE http_requests_total counter",
        'http_requests_total{code="200",path="/a b"} 10 1700000000000',
        'http_requests_total{code="503"} 2',
        "http_requests_in_flight 4",
        'weird{label="with \\"quote\\""} +Inf',
        "garbage line",
      ].join("\n"),
    );
    expect(samples).toEqual([
      { name: "http_requests_total", labels: { code: "200", path: "/a b" }, value: 10 },
      { name: "http_requests_total", labels: { code: "503" }, value: 2 },
      { name: "http_requests_in_flight", labels: {}, value: 4 },
      { name: "weird", labels: { label: 'with "quote"' }, value: Number.POSITIVE_INFINITY },
    ]);
    expect(gaugeName("jvm_threads:live")).toBe("jvm_threads_live");
  });

  it("scrapes counters as deltas, errors from 5xx, chosen gauges, and drains by waiting", async () => {
    let total = 100;
    let errors = 5;
    let up = true;
    const app: Server = createServer((_req, res) => {
      if (!up) {
        res.statusCode = 500;
        res.end();
        return;
      }
      res.end(
        `http_requests_total{code="200"} ${total}\nhttp_requests_total{code="500"} ${errors}\n` +
          "http_requests_in_flight 2\nqueue_depth 7\n",
      );
    });
    await new Promise<void>((r) => app.listen(0, "127.0.0.1", () => r()));
    stops.push(() => app.close());
    const registry = new AppRegistry();
    const scraper = new PrometheusScraper({
      url: `http://127.0.0.1:${(app.address() as { port: number }).port}/metrics`,
      serviceName: "java-app",
      intervalMs: 60_000,
      mapping: {
        inflight: "http_requests_in_flight",
        requests: "http_requests_total",
        gauges: ["queue_depth"],
      },
      registry,
      drainWaitMs: 50,
      log: () => {},
    });
    scraper.start();
    stops.push(() => scraper.stop());
    await new Promise((r) => setTimeout(r, 100));
    expect(registry.ready).toBe(true);
    registry.takeReports();
    total = 130;
    errors = 8;
    await scraper.scrapeOnce();
    const [r] = registry.takeReports();
    expect(r?.load).toMatchObject({
      requestsCompleted: 33,
      errors: 3,
      inflightNow: 2,
      gauges: { queue_depth: 7 },
    });
    up = false;
    await scraper.scrapeOnce();
    expect(registry.ready).toBe(false);
    up = true;
    await scraper.scrapeOnce();
    registry.broadcast({ body: { $case: "drain", value: { deadlineMs: 1000, reason: "test" } } });
    expect(registry.list()[0]?.state.drain).toBe(DrainState.DRAIN_STATE_DRAINING);
    await new Promise((r) => setTimeout(r, 80));
    expect(registry.drained).toBe(true);
  });
});
