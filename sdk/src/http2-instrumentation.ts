import type { IncomingMessage, ServerResponse } from "node:http";
import {
  constants,
  type Http2SecureServer,
  type Http2Server,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from "node:http2";
import type { LoadMeter } from "./load-meter.js";
import {
  GOAWAY_GRACE_MS,
  jitter,
  later,
  MAX_STREAM_ID,
  pickFraction,
  type ServerAdapter,
} from "./server-adapter.js";

const GOAWAY_SENT = Symbol("ballast.goaway");
type Session = ServerHttp2Session & { [GOAWAY_SENT]?: boolean };

export type AnyHttp2Server = Http2Server | Http2SecureServer;

export interface Http2AdapterOptions {
  /** Send GOAWAY to every session after about this long (±10 % jitter); 0 (default) = never. */
  maxConnectionAgeMs?: number;
}

/**
 * Measures every stream of a `node:http2` server and implements drain and rebalancing with GOAWAY:
 * first a graceful GOAWAY that still admits every stream the client may have sent (last-stream-id
 * 2^31−1), so the client opens its next streams on a new connection, then `session.close()`, which
 * sends the final GOAWAY and lets open streams finish. HTTP/1.1 requests on a secure server with
 * `allowHTTP1` are measured too and closed with `Connection: close` while draining.
 */
export class Http2ServerAdapter implements ServerAdapter {
  readonly kind = "http2";
  private draining = false;
  private readonly sessions = new Set<Session>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly maxAgeMs: number;

  constructor(
    readonly server: AnyHttp2Server,
    private readonly meter: LoadMeter,
    options: Http2AdapterOptions = {},
  ) {
    this.maxAgeMs = options.maxConnectionAgeMs ?? 0;
    server.prependListener("session", this.onSession);
    server.prependListener("stream", this.onStream);
    server.prependListener("request", this.onRequest);
  }

  private readonly onSession = (session: Session): void => {
    this.sessions.add(session);
    let ageTimer: NodeJS.Timeout | undefined;
    if (this.maxAgeMs > 0) {
      ageTimer = this.track(later(jitter(this.maxAgeMs), () => this.recycle(session)));
    }
    session.once("close", () => {
      this.sessions.delete(session);
      if (ageTimer) {
        clearTimeout(ageTimer);
        this.timers.delete(ageTimer);
      }
    });
  };

  private readonly onStream = (stream: ServerHttp2Stream): void => {
    const started = this.meter.begin();
    const session = stream.session as Session | undefined;
    stream.once("close", () => {
      const status = Number(stream.sentHeaders?.[":status"] ?? 0);
      this.meter.end(started, stream.rstCode !== constants.NGHTTP2_NO_ERROR || status === 0 || status >= 500);
      // A session opened during the drain (routing had not caught up yet) is sent away after its
      // first stream, not at once: an immediate GOAWAY would only make the client reconnect in a loop.
      if (this.draining && session) goawayGracefully(session);
    });
  };

  // HTTP/1.1 fallback of a secure server (`allowHTTP1`); HTTP/2 requests are measured as streams.
  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.httpVersionMajor >= 2) return;
    const started = this.meter.begin();
    if (this.draining) res.setHeader("Connection", "close");
    res.once("close", () => this.meter.end(started, !res.writableFinished || res.statusCode >= 500));
  };

  get connections(): number {
    return this.sessions.size;
  }

  beginDrain(): void {
    this.draining = true;
    for (const s of this.sessions) goawayGracefully(s);
  }

  stopAccepting(): void {
    this.draining = true;
    this.server.close();
    for (const s of this.sessions) closeSession(s);
  }

  forceClose(): void {
    for (const s of this.sessions) if (!s.destroyed) s.destroy();
  }

  rebalance(fraction: number, spreadMs: number): number {
    const chosen = pickFraction(
      [...this.sessions].filter((s) => !s[GOAWAY_SENT]),
      fraction,
    );
    for (const s of chosen) this.track(later(Math.random() * spreadMs, () => this.recycle(s)));
    return chosen.length;
  }

  /** Graceful GOAWAY now, the real close a grace period later. */
  private recycle(session: Session): void {
    goawayGracefully(session);
    this.track(later(GOAWAY_GRACE_MS, () => closeSession(session)));
  }

  private track(t: NodeJS.Timeout): NodeJS.Timeout {
    this.timers.add(t);
    return t;
  }

  detach(): void {
    this.server.off("session", this.onSession);
    this.server.off("stream", this.onStream);
    this.server.off("request", this.onRequest);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

/** First GOAWAY: NO_ERROR with the largest stream id, so nothing already sent is refused. */
export function goawayGracefully(session: ServerHttp2Session & { [GOAWAY_SENT]?: boolean }): void {
  if (session[GOAWAY_SENT] || session.closed || session.destroyed) return;
  session[GOAWAY_SENT] = true;
  try {
    session.goaway(constants.NGHTTP2_NO_ERROR, MAX_STREAM_ID);
  } catch {
    // The session closed meanwhile.
  }
}

/** Final GOAWAY and close once the open streams are done. */
export function closeSession(session: ServerHttp2Session & { [GOAWAY_SENT]?: boolean }): void {
  session[GOAWAY_SENT] = true;
  if (session.closed || session.destroyed) return;
  try {
    session.close();
  } catch {
    // Already closing.
  }
}
