import {
  Agent,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from "node:http";

/** Where the front may send a request: the ready replicas, asked per request. */
export interface Upstream {
  name: string;
  port: number;
}

export interface FrontStats {
  /** Requests answered by a replica. */
  served: number;
  /** Requests that failed (no ready replica, or an upstream error). */
  failed: number;
}

/**
 * The local mode's front door: an HTTP proxy on 127.0.0.1 that sends each request to the next ready
 * replica in turn (round-robin), like a Service over ready endpoints. A request that fails before any
 * byte of it reached a replica (the replica closed a kept-alive socket) is retried once on another.
 */
export class FrontProxy {
  private readonly server: Server;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256, keepAliveMsecs: 1000 });
  private next = 0;
  readonly stats: FrontStats = { served: 0, failed: 0 };

  constructor(private readonly upstreams: () => Upstream[]) {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
  }

  private pick(exclude?: Upstream): Upstream | undefined {
    const list = this.upstreams().filter((u) => u !== exclude && u.port !== exclude?.port);
    if (list.length === 0) return undefined;
    this.next = (this.next + 1) % list.length;
    return list[this.next];
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => this.forward(req, res, Buffer.concat(chunks), undefined, true));
  }

  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    tried: Upstream | undefined,
    retry: boolean,
  ): void {
    const target = this.pick(tried);
    if (!target) {
      this.stats.failed++;
      res.writeHead(503, { "content-type": "text/plain" });
      res.end("no ready replica\n");
      return;
    }
    const headers = { ...req.headers, host: `127.0.0.1:${target.port}` };
    delete headers.connection;
    const up = request(
      { host: "127.0.0.1", port: target.port, method: req.method, path: req.url, headers, agent: this.agent },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
        upRes.on("end", () => {
          if ((upRes.statusCode ?? 502) < 500) this.stats.served++;
          else this.stats.failed++;
        });
      },
    );
    up.on("error", (err: NodeJS.ErrnoException) => {
      if (res.headersSent) {
        this.stats.failed++;
        res.destroy(err);
        return;
      }
      // A reset on a reused socket means the replica closed it while idle: the request never ran.
      const safe =
        retry && (err.code === "ECONNRESET" || err.code === "ECONNREFUSED" || err.code === "EPIPE");
      if (safe) {
        this.forward(req, res, body, target, false);
        return;
      }
      this.stats.failed++;
      res.writeHead(502, { "content-type": "text/plain" });
      res.end(`upstream ${target.name}: ${err.code ?? err.message}\n`);
    });
    up.end(body);
  }

  /** Listens on 127.0.0.1:port (0 = any) and resolves to the port. */
  async listen(port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", () => resolve());
    });
    const addr = this.server.address();
    return typeof addr === "object" && addr ? addr.port : port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.agent.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
