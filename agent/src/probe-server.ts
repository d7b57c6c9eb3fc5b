import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AppRegistry } from "./app-registry.js";

export interface ProbeServerOptions {
  host: string;
  port: number;
  registry: AppRegistry;
  /** Runs the drain timeline for preStop; resolves when the apps are done or the budget is spent. */
  preStop: () => Promise<boolean>;
}

/**
 * Probes for the kubelet. `/livez` answers 200 while the agent's loop runs: liveness never fails
 * because an app drains or is busy (a restart would only add load). `/readyz` is 200 only when every
 * app said ready and none drains. `/startupz` is 200 once an app has been ready. `/prestop` drains.
 */
export class ProbeServer {
  private readonly server: Server;

  constructor(private readonly options: ProbeServerOptions) {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const { registry } = this.options;
    const send = (code: number, body: string) => {
      res.writeHead(code, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
      res.end(`${body}\n`);
    };
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/livez") send(200, "ok");
    else if (path === "/readyz") {
      if (registry.ready) send(200, "ready");
      else
        send(
          503,
          registry.draining
            ? "draining"
            : registry.list().length === 0
              ? "no app connected"
              : "app not ready",
        );
    } else if (path === "/startupz")
      send(registry.started ? 200 : 503, registry.started ? "started" : "starting");
    else if (path === "/prestop") {
      if (req.method !== "GET" && req.method !== "POST") send(405, "use GET or POST");
      else void this.options.preStop().then((done) => send(200, done ? "drained" : "drain deadline passed"));
    } else if (path === "/status") {
      // What the agent knows of its apps, for people and scripts (kubectl port-forward, curl).
      const body = JSON.stringify({
        ready: registry.ready,
        draining: registry.draining,
        apps: registry.list().map((a) => ({ service: a.serviceName, pid: a.pid, ...a.state })),
      });
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(`${body}\n`);
    } else send(404, "not found; try /livez /readyz /startupz /prestop /status");
  }

  /** Listens; resolves to the bound port. */
  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port, this.options.host, () => resolve());
    });
    const addr = this.server.address();
    return typeof addr === "object" && addr ? addr.port : this.options.port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
