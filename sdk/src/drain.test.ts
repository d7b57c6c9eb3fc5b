import { Agent, createServer, get, type IncomingMessage, type Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type Ballast, instrument } from "./ballast.js";

let server: Server;
let ballast: Ballast;

async function startServer(handlerDelayMs: number): Promise<number> {
  server = createServer((_req, res) => setTimeout(() => res.end("ok"), handlerDelayMs));
  ballast = instrument(server, { handleSignals: false, agentSocket: "" });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return (server.address() as AddressInfo).port;
}

function fetchVia(agent: Agent, port: number): Promise<IncomingMessage & { body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: "127.0.0.1", port, path: "/", agent }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve(Object.assign(res, { body })));
    }).on("error", reject);
  });
}

afterEach(async () => {
  await ballast?.close();
  server?.closeAllConnections();
  server?.close();
});

describe("drain of a node:http server", () => {
  it("finishes in-flight requests with Connection: close, closes idle keep-alive sockets, then resolves", async () => {
    const port = await startServer(150);
    const busy = new Agent({ keepAlive: true, maxSockets: 1 });
    const idle = new Agent({ keepAlive: true, maxSockets: 1 });
    // An idle kept-alive connection: one finished request, socket parked in the agent.
    await fetchVia(idle, port);
    const idleSocketClosed = new Promise<void>((resolve) => {
      const sockets = Object.values(idle.freeSockets).flat();
      expect(sockets).toHaveLength(1);
      sockets[0]?.once("close", () => resolve());
    });
    const inflight = fetchVia(busy, port);
    await new Promise((r) => setTimeout(r, 30));
    expect(ballast.inflight).toBe(1);
    const t0 = Date.now();
    const drained = ballast.drain(5000);
    await idleSocketClosed;
    const res = await inflight;
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe("ok");
    expect(res.headers.connection).toBe("close");
    expect(await drained).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(ballast.state()).toMatchObject({ ready: false, inflight: 0 });
    // The listener is closed: new connections are refused.
    await expect(fetchVia(new Agent(), port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    busy.destroy();
    idle.destroy();
  });

  it("gives up at the deadline and closes what is left", async () => {
    const port = await startServer(2000);
    const agent = new Agent({ keepAlive: true });
    const pending = fetchVia(agent, port).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 30));
    expect(await ballast.drain(100)).toBe(false);
    expect(await pending).toBeInstanceOf(Error);
    agent.destroy();
  });

  it("is never ready while draining", async () => {
    await startServer(1);
    ballast.ready();
    expect(ballast.state().ready).toBe(true);
    await ballast.drain(100);
    ballast.ready();
    expect(ballast.state().ready).toBe(false);
  });
});

describe("requests the client abandons", () => {
  it("are counted as failed when the connection goes, and leave nothing in flight", async () => {
    const port = await startServer(300);
    ballast.meter.startWindows();
    const req = get({ host: "127.0.0.1", port, path: "/" });
    req.on("error", () => {});
    await new Promise((r) => setTimeout(r, 50));
    expect(ballast.inflight).toBe(1);
    req.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(ballast.inflight).toBe(0);
    const w = ballast.meter.take();
    expect(w.requestsCompleted).toBe(1);
    expect(w.errors).toBe(1);
    // The handler's late answer on the dead socket changes nothing.
    await new Promise((r) => setTimeout(r, 300));
    expect(ballast.meter.take().requestsCompleted).toBe(0);
  });
});

/** A raw connection: `send` writes GETs of `paths` back to back (pipelined); `answered` waits for n 200s. */
function pipelined(port: number): {
  socket: Socket;
  send: (paths: string[]) => void;
  answered: (n: number) => Promise<void>;
} {
  const socket = connect(port, "127.0.0.1");
  let text = "";
  socket.on("data", (d) => (text += d));
  socket.on("error", () => {});
  return {
    socket,
    send: (paths) => socket.write(paths.map((p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`).join("")),
    answered: async (n) => {
      while ((text.match(/HTTP\/1\.1 200/g) ?? []).length < n) await new Promise((r) => setTimeout(r, 10));
    },
  };
}

describe("pipelined HTTP/1.1 requests", () => {
  async function start(): Promise<number> {
    // /slow answers after 120 ms; the rest at once, but in order, so after it.
    server = createServer((req, res) => setTimeout(() => res.end("ok"), req.url === "/slow" ? 120 : 0));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    return (server.address() as AddressInfo).port;
  }

  /** An instrumented server with /slow, /a and /b sent pipelined on one connection 50 ms ago. */
  async function threeInFlight(): Promise<ReturnType<typeof pipelined>> {
    const port = await start();
    ballast = instrument(server, { handleSignals: false, agentSocket: "" });
    ballast.meter.startWindows();
    const c = pipelined(port);
    c.send(["/slow", "/a", "/b"]);
    await new Promise((r) => setTimeout(r, 50));
    return c;
  }

  it("are each counted once, timed from their own start, and leave nothing in flight", async () => {
    const c = await threeInFlight();
    expect(ballast.inflight).toBe(3);
    await c.answered(3);
    expect(ballast.inflight).toBe(0);
    const w = ballast.meter.take();
    expect(w.requestsCompleted).toBe(3);
    expect(w.errors).toBe(0);
    // All three waited for /slow: none finished within 100 ms of its start.
    expect(w.latency.counts.slice(0, 6).reduce((a, b) => a + b, 0)).toBe(0);
    expect(w.latency.sumMs).toBeGreaterThanOrEqual(3 * 110);
    expect(w.latency.sumMs).toBeLessThan(3 * 1000);
    c.socket.destroy();
  });

  it("still queued when the client goes are counted as failed", async () => {
    const c = await threeInFlight();
    c.socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(ballast.inflight).toBe(0);
    const w = ballast.meter.take();
    expect(w.requestsCompleted).toBe(3);
    expect(w.errors).toBe(3);
  });

  it("a request in flight when the server was instrumented is left uncounted; the next one on its connection is counted", async () => {
    const port = await start();
    const c = pipelined(port);
    c.send(["/slow"]);
    await new Promise((r) => setTimeout(r, 30));
    ballast = instrument(server, { handleSignals: false, agentSocket: "" });
    ballast.meter.startWindows();
    c.send(["/a"]);
    await c.answered(2);
    expect(ballast.inflight).toBe(0);
    expect(ballast.meter.take().requestsCompleted).toBe(1);
    c.socket.destroy();
  });
});
