// Thin adapters for web frameworks. Each one finds the framework's node:http server and hands it to
// the core; none imports its framework (the types below are structural), so an app pays only for the
// framework it already uses.
import type { Server as HttpServer } from "node:http";
import { type Ballast, ballast, type InstrumentOptions } from "./ballast.js";

/** What an Express or Koa application offers: `listen(...)` creates a node:http server. */
export interface ListeningApp {
  listen(...args: never[]): HttpServer;
}

/** What a Fastify instance offers: its node:http server and lifecycle hooks. */
export interface FastifyLike {
  server: HttpServer;
  addHook(name: "onReady", hook: () => Promise<void>): unknown;
}

/** Makes `app.listen(...)` instrument the server it creates (Express and Koa create it there). */
function wrapListen(app: ListeningApp, b: Ballast): void {
  const original = app.listen;
  const wrapped = function (this: unknown, ...args: never[]): HttpServer {
    const server = original.apply(this, args);
    b.attachHttp(server);
    return server;
  };
  Object.defineProperty(app, "listen", { value: wrapped, configurable: true, writable: true });
}

/**
 * Express (4 and 5): `instrumentExpress(app)` before `app.listen(...)`. A server made with
 * `http.createServer(app)` is instrumented with `instrument(server)` instead.
 */
export function instrumentExpress(app: ListeningApp, options?: InstrumentOptions): Ballast {
  const b = ballast(options);
  wrapListen(app, b);
  return b;
}

/** Koa (2 and 3): `instrumentKoa(app)` before `app.listen(...)`. */
export function instrumentKoa(app: ListeningApp, options?: InstrumentOptions): Ballast {
  const b = ballast(options);
  wrapListen(app, b);
  return b;
}

/**
 * Fastify (4 and 5): instruments `fastify.server` at once and adds a readiness gate named "fastify"
 * that resolves when Fastify is ready (plugins loaded), so the app is not reported ready before.
 */
export function instrumentFastify(fastify: FastifyLike, options?: InstrumentOptions): Ballast {
  const b = ballast(options);
  b.attachHttp(fastify.server);
  const gate = b.gate("fastify");
  fastify.addHook("onReady", async () => gate.resolve());
  return b;
}
