import { subscribe } from "node:diagnostics_channel";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { Server as TlsServer } from "node:tls";
import { now } from "./clock.js";
import type { LoadMeter } from "./load-meter.js";
import { jitter, later, pickFraction, type ServerAdapter } from "./server-adapter.js";

// Stored on the response: when it started (now()), or -1 once counted.
const STARTED = Symbol("ballast.started");
// Stored on the server: its adapter.
const ADAPTER = Symbol("ballast.adapter");
// Stored on the socket (set for every socket, so its shape stays the same): close after the next
// response; when its maximum age is reached (Infinity without one); requests started and not finished.
const CLOSE = Symbol("ballast.close");
const EXPIRES = Symbol("ballast.expires");
const OPEN = Symbol("ballast.open");

type TimedResponse = ServerResponse & { [STARTED]?: number };
// Node keeps the response a socket is serving on `_httpMessage`; stable since Node 0.x.
type HttpSocket = Socket & {
  _httpMessage?: ServerResponse | null;
  [CLOSE]: boolean;
  [EXPIRES]: number;
  [OPEN]: number;
};
type InstrumentedServer = Server & { [ADAPTER]?: HttpServerAdapter };

interface RequestMessage {
  request: IncomingMessage;
  response: TimedResponse;
  socket: HttpSocket;
  server: InstrumentedServer;
}

// Node publishes every request's start and every response's finish on these channels (Node ≥ 18.7);
// listening there adds no per-request listener and no second 'request' listener, which would make
// each request clone the server's listener array.
let subscribed = false;
function subscribeOnce(): void {
  if (subscribed) return;
  subscribed = true;
  subscribe("http.server.request.start", (m) => {
    const msg = m as RequestMessage;
    msg.server[ADAPTER]?.requestStarted(msg.response, msg.socket);
  });
  subscribe("http.server.response.finish", (m) => {
    const msg = m as RequestMessage;
    msg.server[ADAPTER]?.responseFinished(msg.response, msg.socket);
  });
}

export interface HttpAdapterOptions {
  /**
   * Recycle every keep-alive connection after about this long (±10 % jitter): its next response
   * carries `Connection: close`. 0 (the default) keeps connections as long as the client wants.
   */
  maxConnectionAgeMs?: number;
}

/**
 * Measures every request of a `node:http` or `node:https` server and implements its part of drain and
 * rebalancing with `Connection: close`: a client finishes the request it sent, reads the header and
 * reconnects, so no request is lost to a socket closed under it.
 */
export class HttpServerAdapter implements ServerAdapter {
  readonly kind = "http";
  private draining = false;
  private stopped = false;
  private readonly sockets = new Set<HttpSocket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly maxAgeMs: number;
  private readonly connectionEvent: string;

  constructor(
    readonly server: Server,
    private readonly meter: LoadMeter,
    options: HttpAdapterOptions = {},
  ) {
    this.maxAgeMs = options.maxConnectionAgeMs ?? 0;
    // An https server hands the request the TLS socket, which only "secureConnection" carries.
    this.connectionEvent = server instanceof TlsServer ? "secureConnection" : "connection";
    server.on(this.connectionEvent, this.onConnection);
    (server as InstrumentedServer)[ADAPTER] = this;
    subscribeOnce();
  }

  private readonly onConnection = (socket: HttpSocket): void => {
    this.sockets.add(socket);
    socket[CLOSE] = false;
    socket[EXPIRES] = this.maxAgeMs > 0 ? now() + jitter(this.maxAgeMs) : Number.POSITIVE_INFINITY;
    socket[OPEN] = 0;
    socket.once("close", () => {
      this.sockets.delete(socket);
      // Requests whose response never finished (the client went away, the app destroyed the socket)
      // end here, as failures.
      for (; socket[OPEN] > 0; socket[OPEN]--) this.meter.end(now(), true);
    });
  };

  requestStarted(res: TimedResponse, socket: HttpSocket): void {
    // A connection accepted before the server was instrumented.
    if (socket[OPEN] === undefined) this.onConnection(socket);
    const started = this.meter.begin();
    res[STARTED] = started;
    socket[OPEN]++;
    if (this.draining || socket[CLOSE] || started > socket[EXPIRES]) res.setHeader("Connection", "close");
  }

  responseFinished(res: TimedResponse, socket: HttpSocket): void {
    const started = res[STARTED] ?? -1;
    if (started < 0) return;
    res[STARTED] = -1;
    socket[OPEN]--;
    this.meter.end(started, res.statusCode >= 500);
    // A response whose headers went out before the drain did not say `Connection: close`; once the
    // listener is closed its socket is closed as soon as it turns idle.
    // No closure here: one would make every call allocate a context for `this`, stopped or not.
    if (this.stopped) setImmediate(closeIdle, this.server);
  }

  get connections(): number {
    return this.sockets.size;
  }

  beginDrain(): void {
    this.draining = true;
    for (const socket of this.sockets) markClose(socket);
  }

  stopAccepting(): void {
    this.draining = true;
    this.stopped = true;
    this.server.close();
    this.server.closeIdleConnections();
  }

  forceClose(): void {
    this.server.closeAllConnections();
  }

  rebalance(fraction: number, spreadMs: number): number {
    const chosen = pickFraction(
      [...this.sockets].filter((s) => !s[CLOSE]),
      fraction,
    );
    for (const socket of chosen) {
      const t = later(Math.random() * spreadMs, () => {
        this.timers.delete(t);
        // An idle socket carries no load: it is closed by its next response, never under a client.
        markClose(socket);
      });
      this.timers.add(t);
    }
    return chosen.length;
  }

  detach(): void {
    this.server.off(this.connectionEvent, this.onConnection);
    delete (this.server as InstrumentedServer)[ADAPTER];
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

function closeIdle(server: Server): void {
  server.closeIdleConnections();
}

/** The socket's next response, or the one it is writing if its headers have not gone out, closes it. */
function markClose(socket: HttpSocket): void {
  socket[CLOSE] = true;
  const res = socket._httpMessage;
  if (res && !res.headersSent) res.setHeader("Connection", "close");
}
