// Clients for the drain and rebalance tests: a TCP "Service" that picks a ready replica per connection
// (as kube-proxy does, so keep-alive clients stay pinned), and keep-alive HTTP/1.1 and HTTP/2 client
// loops that count every answer by the replica that gave it and every failure.
import { Agent, request } from "node:http";
import http2 from "node:http2";
import { connect, createServer, type Server, type Socket } from "node:net";

/** A per-connection round-robin TCP balancer over `ports()` (ready replicas), on 127.0.0.1. */
export class TcpService {
  private readonly server: Server;
  private next = 0;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly ports: () => number[]) {
    this.server = createServer((client) => this.accept(client));
  }

  private accept(client: Socket): void {
    const list = this.ports();
    if (list.length === 0) {
      client.destroy();
      return;
    }
    this.next = (this.next + 1) % list.length;
    const upstream = connect(list[this.next] as number, "127.0.0.1");
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.once("close", () => this.sockets.delete(s));
    }
    client.pipe(upstream);
    upstream.pipe(client);
    // A reset on one side is a reset on the other, as through kube-proxy's NAT.
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  }

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", () => r()));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export interface LoadTally {
  ok: number;
  failed: number;
  errors: string[];
  /** Answers by replica port, each with the time it arrived (ms since the load started). */
  byPort: Map<number, number[]>;
  /** HTTP/2 requests the server refused unprocessed (REFUSED_STREAM) and the client sent again. */
  retried: number;
}

function record(t: LoadTally, started: number, body: string): void {
  const port = Number(body.trim());
  if (!Number.isInteger(port) || port <= 0) {
    t.failed++;
    t.errors.push(`bad body ${JSON.stringify(body)}`);
    return;
  }
  t.ok++;
  let list = t.byPort.get(port);
  if (!list) {
    list = [];
    t.byPort.set(port, list);
  }
  list.push(performance.now() - started);
}

export interface RunningLoad {
  tally: LoadTally;
  stop(): Promise<LoadTally>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `clients` loops, each on its own keep-alive connection, sending requests back to back. */
export function http1Load(port: number, clients: number, gapMs = 2): RunningLoad {
  const tally: LoadTally = { ok: 0, failed: 0, errors: [], byPort: new Map(), retried: 0 };
  const started = performance.now();
  let stopped = false;
  const agents: Agent[] = [];
  const loops = Array.from({ length: clients }, async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    while (!stopped) {
      await new Promise<void>((resolve) => {
        const req = request({ host: "127.0.0.1", port, path: "/", agent }, (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (c) => (body += c));
          res.on("end", () => {
            if (res.statusCode === 200) record(tally, started, body);
            else {
              tally.failed++;
              tally.errors.push(`status ${res.statusCode}`);
            }
            resolve();
          });
          res.on("error", (e) => {
            tally.failed++;
            tally.errors.push(e.message);
            resolve();
          });
        });
        req.on("error", (e: NodeJS.ErrnoException) => {
          tally.failed++;
          tally.errors.push(e.code ?? e.message);
          resolve();
        });
        req.end();
      });
      await sleep(gapMs);
    }
  });
  return {
    tally,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      for (const a of agents) a.destroy();
      return tally;
    },
  };
}

/**
 * `clients` HTTP/2 sessions, each with one stream at a time. Like any HTTP/2 client, a loop opens a
 * new session when its session got GOAWAY or closed; a stream that fails counts as a failure.
 */
export function http2Load(port: number, clients: number, gapMs = 2): RunningLoad {
  const tally: LoadTally = { ok: 0, failed: 0, errors: [], byPort: new Map(), retried: 0 };
  const started = performance.now();
  let stopped = false;
  const sessions = new Set<http2.ClientHttp2Session>();
  const loops = Array.from({ length: clients }, async () => {
    let session: http2.ClientHttp2Session | undefined;
    let away = false;
    const fresh = () => {
      const s = http2.connect(`http://127.0.0.1:${port}`);
      sessions.add(s);
      away = false;
      s.on("goaway", () => {
        if (session === s) away = true;
      });
      s.on("close", () => sessions.delete(s));
      s.on("error", () => {});
      return s;
    };
    while (!stopped) {
      if (!session || away || session.closed || session.destroyed) {
        session?.close();
        session = fresh();
      }
      const s = session;
      const outcome = await new Promise<"done" | "refused">((resolve) => {
        let body = "";
        let stream: http2.ClientHttp2Stream;
        try {
          stream = s.request({ ":path": "/" });
        } catch (e) {
          tally.failed++;
          tally.errors.push((e as NodeJS.ErrnoException).code ?? String(e));
          resolve("done");
          return;
        }
        let status = 0;
        stream.setEncoding("utf8");
        stream.on("response", (h) => (status = Number(h[":status"])));
        stream.on("data", (c) => (body += c));
        stream.on("end", () => {
          if (status === 200) record(tally, started, body);
          else {
            tally.failed++;
            tally.errors.push(`status ${status}`);
          }
          resolve("done");
        });
        stream.on("close", () => {
          if (stream.readableEnded) return;
          // REFUSED_STREAM (or a stream above a GOAWAY's last-stream-id) means the server never
          // processed it (RFC 9113 §8.7): every HTTP/2 client may send it again, and gRPC, browsers
          // and proxies do so transparently. Anything else unanswered is a failure.
          if (stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM && status === 0) {
            tally.retried++;
            away = true;
            resolve("refused");
            return;
          }
          tally.failed++;
          tally.errors.push(
            `${stream.errored ? ((stream.errored as NodeJS.ErrnoException).code ?? "error") : "closed"} (rst ${stream.rstCode})`,
          );
          resolve("done");
        });
        stream.on("error", () => {});
        stream.end();
      });
      if (outcome === "refused") continue;
      await sleep(gapMs);
    }
    session?.close();
  });
  return {
    tally,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      for (const s of sessions) s.destroy();
      return tally;
    },
  };
}
