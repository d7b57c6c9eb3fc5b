// Rebalancing and the propagation wait, on real sockets.
import { Agent, createServer, request, type Server } from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Ballast } from "./ballast.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let b: Ballast | undefined;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  await b?.close();
  b = undefined;
  for (const c of cleanups.splice(0)) await c();
});

async function httpServer(delayMs = 0): Promise<{ server: Server; port: number; accepted: () => number }> {
  let accepted = 0;
  const server = createServer((_req, res) => setTimeout(() => res.end("ok"), delayMs));
  server.on("connection", () => accepted++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  cleanups.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return { server, port: (server.address() as AddressInfo).port, accepted: () => accepted };
}

function hit(agent: Agent, port: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    request({ host: "127.0.0.1", port, agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.headers.connection));
    })
      .on("error", reject)
      .end();
  });
}

describe("rebalance", () => {
  it("HTTP/1.1: recycles the chosen keep-alive connections with Connection: close within the spread", async () => {
    const { server, port, accepted } = await httpServer(5);
    b = new Ballast({ handleSignals: false, agentSocket: "" }).attachHttp(server);
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    cleanups.push(() => agent.destroy());
    const wave = () => Promise.all(Array.from({ length: 8 }, () => hit(agent, port)));
    await wave();
    expect(accepted()).toBe(8);
    expect(b.servers[0]?.connections).toBe(8);
    expect(b.rebalance(0.5, 100)).toBe(4);
    await sleep(150);
    const headers = await wave();
    expect(headers.filter((h) => h === "close")).toHaveLength(4);
    await wave();
    // Four clients reconnected; the other four kept their connections.
    expect(accepted()).toBe(12);
    expect(await hit(agent, port)).toBe("keep-alive");
  });

  it("HTTP/1.1: a maximum connection age recycles connections on their own", async () => {
    const { server, port, accepted } = await httpServer();
    b = new Ballast({ handleSignals: false, agentSocket: "", maxConnectionAgeMs: 100 }).attachHttp(server);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    const until = performance.now() + 500;
    while (performance.now() < until) {
      await hit(agent, port);
      await sleep(5);
    }
    // One connection for each ~100 ms (±10 %) of age.
    expect(accepted()).toBeGreaterThanOrEqual(4);
    expect(accepted()).toBeLessThanOrEqual(7);
  });

  it("HTTP/2: sends GOAWAY to the chosen sessions and closes them after the grace", async () => {
    const server = http2.createServer();
    server.on("stream", (s) => {
      s.respond({ ":status": 200 });
      s.end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    cleanups.push(() => server.close());
    b = new Ballast({ handleSignals: false, agentSocket: "" }).attachHttp2(server);
    const port = (server.address() as AddressInfo).port;
    const clients = Array.from({ length: 4 }, () => http2.connect(`http://127.0.0.1:${port}`));
    for (const c of clients) cleanups.push(() => c.destroy());
    await Promise.all(
      clients.map(
        (c) =>
          new Promise((r) => {
            const s = c.request({ ":path": "/" });
            s.resume();
            s.on("end", r);
            s.end();
          }),
      ),
    );
    const goaways = clients.map((c) => new Promise<boolean>((r) => c.once("goaway", () => r(true))));
    expect(b.rebalance(1, 50)).toBe(4);
    const got = await Promise.race([Promise.all(goaways), sleep(500).then(() => [])]);
    expect(got).toEqual([true, true, true, true]);
  });
});

describe("propagation wait", () => {
  it("keeps serving while requests still arrive, and ends once they stop", async () => {
    const { server, port } = await httpServer();
    b = new Ballast({
      handleSignals: false,
      agentSocket: "",
      drain: { propagationMinMs: 0, propagationQuietMs: 150, propagationMaxMs: 5000 },
    }).attachHttp(server);
    let stop = false;
    let served = 0;
    const client = (async () => {
      while (!stop) {
        // A fresh connection each time, as from clients whose routes have not caught up yet.
        await hit(new Agent({ keepAlive: false }), port);
        served++;
        await sleep(20);
      }
    })();
    const t0 = performance.now();
    const drained = b.drain(10_000);
    await sleep(400);
    expect(b.drainEvents.map((e) => e.step)).toEqual(["not-ready", "goaway"]);
    stop = true;
    await client;
    expect(await drained).toBe(true);
    const took = performance.now() - t0;
    expect(took).toBeGreaterThan(400 + 100);
    expect(took).toBeLessThan(400 + 600);
    expect(served).toBeGreaterThan(10);
    expect(b.lastDrain?.propagationMs).toBeGreaterThan(500);
  });

  it("never waits past propagationMaxMs", async () => {
    const { server, port } = await httpServer();
    b = new Ballast({
      handleSignals: false,
      agentSocket: "",
      drain: { propagationMinMs: 0, propagationQuietMs: 1000, propagationMaxMs: 200 },
    }).attachHttp(server);
    let stop = false;
    const client = (async () => {
      while (!stop) {
        await hit(new Agent({ keepAlive: false }), port).catch(() => {});
        await sleep(10);
      }
    })();
    expect(await b.drain(10_000)).toBe(true);
    stop = true;
    await client;
    expect(b.lastDrain?.propagationMs).toBeGreaterThanOrEqual(200);
    expect(b.lastDrain?.propagationMs).toBeLessThan(300);
  });
});
