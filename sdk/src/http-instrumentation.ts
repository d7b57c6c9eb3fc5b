import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { LoadMeter } from "./load-meter.js";

// Stored on the response so that the shared `onResponseClose` needs no per-request closure.
const STARTED = Symbol("ballast.started");
const OWNER = Symbol("ballast.owner");
type TimedResponse = ServerResponse & { [STARTED]?: number; [OWNER]?: HttpInstrumentation };
// Node keeps the response a socket is serving on `_httpMessage`; stable since Node 0.x.
type HttpSocket = Socket & { _httpMessage?: ServerResponse | null };

/**
 * Measures every request of a `node:http` server and drains it: `drain` stops accepting, asks each
 * connection to close after its current response (`Connection: close`), closes idle keep-alive sockets
 * and resolves when no request is in flight or the deadline passes.
 */
export class HttpInstrumentation {
  private draining = false;
  private readonly sockets = new Set<HttpSocket>();
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly server: Server,
    private readonly meter: LoadMeter,
  ) {
    server.prependListener("connection", this.onConnection);
    server.prependListener("request", this.onRequest);
  }

  private readonly onConnection = (socket: HttpSocket): void => {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
  };

  private readonly onRequest = (_req: IncomingMessage, res: TimedResponse): void => {
    res[STARTED] = this.meter.begin();
    res[OWNER] = this;
    if (this.draining) res.setHeader("Connection", "close");
    res.on("close", onResponseClose);
  };

  /** Called once per finished or aborted response. */
  responseClosed(res: TimedResponse): void {
    const failed = !res.writableFinished || res.statusCode >= 500;
    this.meter.end(res[STARTED] ?? 0, failed);
    if (this.draining) this.afterResponseWhileDraining();
  }

  private afterResponseWhileDraining(): void {
    // Keep-alive sockets whose response had already sent its headers turn idle now: close them.
    setImmediate(() => this.server.closeIdleConnections());
    if (this.meter.inflightNow === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Drains the server; resolves `true` when every request finished, `false` at the deadline. */
  async drain(deadlineMs: number): Promise<boolean> {
    if (!this.draining) {
      this.draining = true;
      this.server.close();
      for (const socket of this.sockets) {
        const res = socket._httpMessage;
        if (res && !res.headersSent) res.setHeader("Connection", "close");
      }
      this.server.closeIdleConnections();
    }
    if (this.meter.inflightNow === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true))),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), deadlineMs);
      }),
    ]);
    clearTimeout(timer);
    if (!finished) this.server.closeAllConnections();
    return finished;
  }

  detach(): void {
    this.server.off("connection", this.onConnection);
    this.server.off("request", this.onRequest);
  }
}

// One listener shared by every response; `this` is the response that closed.
function onResponseClose(this: TimedResponse): void {
  this[OWNER]?.responseClosed(this);
}

const instrumented = new WeakMap<Server, HttpInstrumentation>();

/** Instruments `server` once; a second call returns the same instrumentation. */
export function attachHttpInstrumentation(server: Server, meter: LoadMeter): HttpInstrumentation {
  const existing = instrumented.get(server);
  if (existing) return existing;
  const inst = new HttpInstrumentation(server, meter);
  instrumented.set(server, inst);
  return inst;
}
