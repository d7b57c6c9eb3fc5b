// Each adapter with its real framework: requests and errors are counted, and a drain finishes the
// request in flight, tells the client to go (Connection: close or GOAWAY) and then refuses new ones.
import { Agent, get, type IncomingMessage, type Server } from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import express from "express";
import Fastify from "fastify";
import Koa from "koa";
import { afterEach, describe, expect, it } from "vitest";
import { type Ballast, instrument } from "./ballast.js";
import { instrumentExpress, instrumentFastify, instrumentKoa } from "./frameworks.js";

const quiet = { handleSignals: false, agentSocket: "", drain: { propagationQuietMs: 100 } };
let b: Ballast | undefined;
const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  await b?.close();
  b = undefined;
  for (const c of cleanups.splice(0)) await c();
});

function fetchVia(agent: Agent, port: number, path: string): Promise<IncomingMessage & { body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: "127.0.0.1", port, path, agent }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve(Object.assign(res, { body })));
    }).on("error", reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The checks every HTTP/1.1 framework adapter must pass. */
async function checkHttpApp(port: number, ballast: Ballast): Promise<void> {
  ballast.startWindows();
  const agent = new Agent({ keepAlive: true });
  cleanups.push(() => agent.destroy());
  expect((await fetchVia(agent, port, "/ok")).statusCode).toBe(200);
  expect((await fetchVia(agent, port, "/boom")).statusCode).toBe(500);
  expect((await fetchVia(agent, port, "/missing")).statusCode).toBe(404);
  const w = ballast.meter.take();
  expect(w.requestsCompleted).toBe(3);
  expect(w.errors).toBe(1);

  const slow = fetchVia(agent, port, "/slow");
  await sleep(30);
  expect(ballast.inflight).toBe(1);
  const drained = ballast.drain(3000);
  const res = await slow;
  expect(res.statusCode).toBe(200);
  expect(res.headers.connection).toBe("close");
  expect(await drained).toBe(true);
  await expect(fetchVia(new Agent(), port, "/ok")).rejects.toMatchObject({ code: "ECONNREFUSED" });
}

describe("framework adapters", () => {
  it("Express", async () => {
    const app = express();
    app.get("/ok", (_req, res) => {
      res.send("ok");
    });
    app.get("/slow", (_req, res) => {
      setTimeout(() => res.send("slow"), 150);
    });
    app.get("/boom", () => {
      throw new Error("boom");
    });
    b = instrumentExpress(app, quiet);
    const server: Server = await new Promise((r) => {
      const s = app.listen(0, "127.0.0.1", () => r(s));
    });
    cleanups.push(() => server.closeAllConnections());
    await checkHttpApp((server.address() as AddressInfo).port, b);
  });

  it("Fastify, with its readiness gate", async () => {
    const app = Fastify();
    app.get("/ok", async () => "ok");
    app.get("/slow", async () => {
      await sleep(150);
      return "slow";
    });
    app.get("/boom", async () => {
      throw new Error("boom");
    });
    b = instrumentFastify(app, quiet);
    b.ready();
    expect(b.isReady).toBe(false);
    expect(b.state().pendingGates).toEqual(["fastify"]);
    await app.listen({ port: 0, host: "127.0.0.1" });
    cleanups.push(() => app.server.closeAllConnections());
    expect(b.isReady).toBe(true);
    await checkHttpApp((app.server.address() as AddressInfo).port, b);
  });

  it("Koa", async () => {
    const app = new Koa();
    app.silent = true;
    app.use(async (ctx) => {
      if (ctx.path === "/ok") ctx.body = "ok";
      else if (ctx.path === "/slow") {
        await sleep(150);
        ctx.body = "slow";
      } else if (ctx.path === "/boom") throw new Error("boom");
    });
    b = instrumentKoa(app, quiet);
    const server: Server = await new Promise((r) => {
      const s = app.listen(0, "127.0.0.1", () => r(s));
    });
    cleanups.push(() => server.closeAllConnections());
    await checkHttpApp((server.address() as AddressInfo).port, b);
  });

  it("node:http2: GOAWAY first, streams in flight finish, new sessions refused after", async () => {
    const server = http2.createServer();
    server.on("stream", (stream, headers) => {
      const path = headers[":path"];
      const reply = (status: number) => {
        if (stream.closed) return;
        stream.respond({ ":status": status });
        stream.end(String(status));
      };
      if (path === "/slow") setTimeout(() => reply(200), 200);
      else reply(path === "/boom" ? 503 : 200);
    });
    b = instrument(server, quiet);
    b.startWindows();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as AddressInfo).port;
    cleanups.push(() => server.close());
    const client = http2.connect(`http://127.0.0.1:${port}`);
    client.on("error", () => {});
    cleanups.push(() => client.destroy());
    const req = (path: string, c = client) =>
      new Promise<number>((resolve, reject) => {
        const r = c.request({ ":path": path });
        r.on("response", (h) => resolve(Number(h[":status"])));
        r.on("error", reject);
        r.resume();
        r.end();
      });
    expect(await req("/ok")).toBe(200);
    expect(await req("/boom")).toBe(503);
    await sleep(10);
    const w = b.meter.take();
    expect(w.requestsCompleted).toBe(2);
    expect(w.errors).toBe(1);

    const goaway = new Promise<number>((r) => client.once("goaway", (_code, last) => r(last)));
    const slow = req("/slow");
    await sleep(30);
    const drained = b.drain(3000);
    expect(await goaway).toBe(2 ** 31 - 1);
    // Still serving during the propagation wait, on a new session.
    const second = http2.connect(`http://127.0.0.1:${port}`);
    second.on("error", () => {});
    cleanups.push(() => second.destroy());
    expect(await req("/ok", second)).toBe(200);
    expect(await slow).toBe(200);
    expect(await drained).toBe(true);
    const third = http2.connect(`http://127.0.0.1:${port}`);
    const refused = new Promise((r) => third.once("error", r));
    expect(await refused).toMatchObject({ code: "ECONNREFUSED" });
  });

  it("@grpc/grpc-js: calls and server errors are counted; drain finishes the call in flight", async () => {
    const passthrough = {
      requestStream: false,
      responseStream: false,
      requestSerialize: (x: Buffer) => x,
      requestDeserialize: (x: Buffer) => x,
      responseSerialize: (x: Buffer) => x,
      responseDeserialize: (x: Buffer) => x,
    };
    const service = {
      echo: { ...passthrough, path: "/test.Echo/Echo" },
    } as grpc.ServiceDefinition;
    const server = new grpc.Server();
    server.addService(service, {
      echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        const what = call.request.toString();
        if (what === "internal") cb({ code: grpc.status.INTERNAL, details: "boom" });
        else if (what === "invalid") cb({ code: grpc.status.INVALID_ARGUMENT, details: "bad" });
        else setTimeout(() => cb(null, call.request), what === "slow" ? 200 : 0);
      },
    });
    b = instrument(server, quiet);
    b.startWindows();
    const port = await new Promise<number>((res, rej) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? rej(e) : res(p),
      ),
    );
    cleanups.push(() => server.forceShutdown());
    const Client = grpc.makeGenericClientConstructor(service, "Echo");
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client & {
      echo: (m: Buffer, cb: (e: grpc.ServiceError | null, r?: Buffer) => void) => void;
    };
    cleanups.push(() => client.close());
    const call = (m: string) =>
      new Promise<string>((resolve) =>
        client.echo(Buffer.from(m), (e, r) => resolve(e ? `error ${e.code}` : String(r))),
      );
    expect(await call("hi")).toBe("hi");
    expect(await call("internal")).toBe(`error ${grpc.status.INTERNAL}`);
    expect(await call("invalid")).toBe(`error ${grpc.status.INVALID_ARGUMENT}`);
    const w = b.meter.take();
    expect(w.requestsCompleted).toBe(3);
    expect(w.errors).toBe(1);
    expect(b.servers[0]?.connections).toBe(1);

    const slow = call("slow");
    await sleep(30);
    expect(b.inflight).toBe(1);
    const drained = b.drain(3000);
    expect(await slow).toBe("slow");
    expect(await drained).toBe(true);
    expect(await call("late")).toBe(`error ${grpc.status.UNAVAILABLE}`);
  });
});

describe("gRPC rebalance", () => {
  it("sends GOAWAY to the session; the client reconnects on a new connection without a failed call", async () => {
    const service = {
      peer: {
        path: "/test.Peer/Peer",
        requestStream: false,
        responseStream: false,
        requestSerialize: (x: Buffer) => x,
        requestDeserialize: (x: Buffer) => x,
        responseSerialize: (x: Buffer) => x,
        responseDeserialize: (x: Buffer) => x,
      },
    } as grpc.ServiceDefinition;
    const server = new grpc.Server();
    server.addService(service, {
      peer: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
        cb(null, Buffer.from(call.getPeer())),
    });
    b = instrument(server, quiet);
    const port = await new Promise<number>((res, rej) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? rej(e) : res(p),
      ),
    );
    cleanups.push(() => server.forceShutdown());
    const Client = grpc.makeGenericClientConstructor(service, "Peer");
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client & {
      peer: (m: Buffer, cb: (e: grpc.ServiceError | null, r?: Buffer) => void) => void;
    };
    cleanups.push(() => client.close());
    const peer = () =>
      new Promise<string>((resolve, reject) =>
        client.peer(Buffer.alloc(0), (e, r) => (e ? reject(e) : resolve(String(r)))),
      );
    const first = await peer();
    expect(b.rebalance(1, 10)).toBe(1);
    // Calls keep working through the GOAWAY and the close a second later.
    const until = performance.now() + 1300;
    const peers = new Set<string>();
    while (performance.now() < until) {
      peers.add(await peer());
      await sleep(20);
    }
    peers.add(await peer());
    expect([...peers].some((p) => p !== first)).toBe(true);
  });
});
