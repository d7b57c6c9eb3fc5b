import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import {
  Command,
  DrainState,
  InvalidMessageError,
  MAX_APPS_PER_POD,
  validateAppHello,
  validateLoadReport,
} from "@ballast/proto";
import type { AppRegistry, ConnectedApp } from "./app-registry.js";
import { externalLoadReport } from "./external-window.js";

/** Largest push body; anything longer is refused before it is read in full. */
export const MAX_PUSH_BYTES = 64 * 1024;
/** Commands kept for an app between two of its pushes; older ones are dropped. */
const MAX_QUEUED_COMMANDS = 16;

export interface PushServerOptions {
  host: string;
  port: number;
  registry: AppRegistry;
  /** An app that has not pushed for this long is removed. */
  staleAfterMs: number;
  log: (line: string) => void;
}

interface PushedApp {
  app: ConnectedApp;
  lastPush: number;
  commands: Command[];
}

const DRAIN_NAMES: Record<string, DrainState> = {
  serving: DrainState.DRAIN_STATE_SERVING,
  draining: DrainState.DRAIN_STATE_DRAINING,
  drained: DrainState.DRAIN_STATE_DRAINED,
};

/** A push body that makes no sense; `field` names the JSON field. */
class PushError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

function num(body: Record<string, unknown>, field: string, integer: boolean): number {
  const v = body[field] ?? 0;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || (integer && !Number.isSafeInteger(v))) {
    throw new PushError(field, `must be a non-negative ${integer ? "integer" : "number"}`);
  }
  return v;
}

function numbers(body: Record<string, unknown>, field: string): Record<string, number> {
  const v = body[field] ?? {};
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new PushError(field, "must be an object");
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== "number") throw new PushError(`${field}.${k}`, "must be a number");
  }
  return v as Record<string, number>;
}

/**
 * A small HTTP/JSON endpoint for apps without the SDK (Java, Go, Python, PHP): `POST /v1/push` with
 *
 *   {"service":"billing","pid":4242,"ready":true,"drain":"serving","inflight":3,
 *    "completed":120,"errors":2,"latency_sum_ms":3400,"gauges":{"queue_backlog":12},"counters":{}}
 *
 * once a second or so; `completed`, `errors`, `latency_sum_ms` and counters count since the previous
 * push. The answer is `{"commands":[...]}`: commands for the app in the protocol's JSON form (drain,
 * rebalance_connections, ...). Bodies are capped at 64 KiB, commands per app at 16, apps per agent at
 * 16, so memory stays bounded whatever is sent.
 */
export class PushServer {
  private readonly server: Server;
  private readonly apps = new Map<string, PushedApp>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly options: PushServerOptions) {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.requestTimeout = 10_000;
    this.server.maxHeadersCount = 64;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const reply = (code: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(text);
    };
    if ((req.url ?? "").split("?")[0] !== "/v1/push") {
      reply(404, { error: "not found; POST /v1/push" });
      return;
    }
    if (req.method !== "POST") {
      reply(405, { error: "use POST" });
      return;
    }
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > MAX_PUSH_BYTES) {
      res.setHeader("connection", "close");
      reply(413, { error: `body larger than ${MAX_PUSH_BYTES} bytes` });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_PUSH_BYTES) {
        res.setHeader("connection", "close");
        reply(413, { error: `body larger than ${MAX_PUSH_BYTES} bytes` });
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      if (res.headersSent) return;
      try {
        const commands = this.accept(JSON.parse(Buffer.concat(chunks).toString("utf8")), Date.now());
        reply(200, { commands: commands.map((c) => Command.toJSON(c)) });
      } catch (e) {
        if (e instanceof SyntaxError) reply(400, { error: `body is not JSON: ${e.message}` });
        else if (e instanceof PushError || e instanceof InvalidMessageError) {
          reply(400, { error: e.message, field: e.field });
        } else if (e instanceof TooManyApps) reply(429, { error: e.message });
        else throw e;
      }
    });
  }

  /** Applies one push; returns the commands queued for the app. */
  accept(body: unknown, now: number): Command[] {
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new PushError("(body)", "must be a JSON object");
    }
    const b = body as Record<string, unknown>;
    const service = b.service;
    if (typeof service !== "string") throw new PushError("service", "is required (a string)");
    const pid = b.pid;
    if (typeof pid !== "number") throw new PushError("pid", "is required (a positive integer)");
    try {
      validateAppHello(
        { serviceName: service, pid, sdkVersion: "", protocolVersion: 1, runtime: "" },
        "push",
      );
    } catch (e) {
      if (e instanceof InvalidMessageError)
        throw new PushError(
          e.field.replace("push.service_name", "service").replace("push.pid", "pid"),
          e.problem,
        );
      throw e;
    }
    const drainName = b.drain ?? "serving";
    const drain = typeof drainName === "string" ? DRAIN_NAMES[drainName] : undefined;
    if (drain === undefined) throw new PushError("drain", "must be serving, draining or drained");
    if (b.ready !== undefined && typeof b.ready !== "boolean")
      throw new PushError("ready", "must be true or false");
    const inflight = num(b, "inflight", true);
    const completed = num(b, "completed", true);
    const errors = num(b, "errors", true);
    if (errors > completed) throw new PushError("errors", "must not exceed completed");
    const latencySumMs = b.latency_sum_ms === undefined ? undefined : num(b, "latency_sum_ms", false);
    const gauges = numbers(b, "gauges");
    const counters = numbers(b, "counters");

    const key = `${service}/${pid}`;
    let entry = this.apps.get(key);
    const startMs = entry ? entry.lastPush : now - 1000;
    const report = externalLoadReport({
      startMs,
      endMs: now,
      inflight,
      completed,
      errors,
      latencySumMs,
      gauges,
      counters,
    });
    validateLoadReport(report, "push");
    if (!entry) {
      if (this.options.registry.list().length >= MAX_APPS_PER_POD) {
        throw new TooManyApps(`at most ${MAX_APPS_PER_POD} apps per agent`);
      }
      const commands: Command[] = [];
      const app = this.options.registry.add(service, pid, (c) => {
        commands.push(c);
        if (commands.length > MAX_QUEUED_COMMANDS) commands.shift();
      });
      entry = { app, lastPush: now, commands };
      this.apps.set(key, entry);
      this.options.log(`push: app ${service} pid ${pid} connected`);
    }
    entry.lastPush = now;
    this.options.registry.addLoad(entry.app, report);
    const ready = (b.ready ?? true) as boolean;
    this.options.registry.setState(entry.app, {
      ready: ready && drain === DrainState.DRAIN_STATE_SERVING,
      drain,
      inflight,
      warmingUp: false,
      pendingGates: [],
      lazyAgents: [],
    });
    return entry.commands.splice(0);
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port, this.options.host, () => resolve());
    });
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.min(this.options.staleAfterMs, 5000));
    this.sweeper.unref();
    const addr = this.server.address();
    return typeof addr === "object" && addr ? addr.port : this.options.port;
  }

  /** Removes apps that stopped pushing. */
  sweep(now: number): void {
    for (const [key, e] of this.apps) {
      if (now - e.lastPush > this.options.staleAfterMs) {
        this.apps.delete(key);
        this.options.registry.remove(e.app);
        this.options.log(`push: app ${e.app.serviceName} pid ${e.app.pid} stopped pushing; removed`);
      }
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

class TooManyApps extends Error {}
