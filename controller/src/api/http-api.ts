import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { ApiError } from "./caller.js";
import { openApiDocument } from "./openapi.js";
import type { ReplicaControlService } from "./replica-control-service.js";

const MAX_BODY = 64 * 1024;
const POLICY =
  /^\/v1\/namespaces\/([a-z0-9][-a-z0-9]{0,62})\/scalingpolicies\/([a-z0-9][-a-z0-9.]{0,252})(\/.*)?$/;

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith("Bearer ") ? h.slice(7).trim() : undefined;
}

async function body(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(400, `body: larger than ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new ApiError(400, "body: not valid JSON");
  }
}

function send(res: ServerResponse, status: number, value: unknown): void {
  const text = `${JSON.stringify(value)}\n`;
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The replica-control API over HTTP/JSON (described at /openapi.json). Errors answer
 * `{"error": message}` with 400, 401, 403, 404, 429 or 503.
 */
export class HttpApi {
  private readonly server: Server;

  constructor(private readonly service: ReplicaControlService) {
    this.server = createServer((req, res) => {
      this.route(req, res).catch((e) => {
        if (e instanceof ApiError) send(res, e.status, { error: e.message });
        else send(res, 500, { error: (e as Error).message });
      });
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://api");
    if (req.method === "GET" && url.pathname === "/openapi.json") return send(res, 200, openApiDocument);
    const m = POLICY.exec(url.pathname);
    if (!m) throw new ApiError(404, `${url.pathname}: no such endpoint (see /openapi.json)`);
    const [, ns, name, rest = ""] = m as unknown as [string, string, string, string | undefined];
    const token = bearer(req);
    const s = this.service;
    if (req.method === "GET" && rest === "") return send(res, 200, await s.getScale(token, ns, name));
    if (req.method === "GET" && rest === "/decisions") {
      const limit = url.searchParams.get("limit");
      const n = limit === null ? 100 : Number(limit);
      if (!Number.isInteger(n) || n < 1 || n > 1000)
        throw new ApiError(400, "limit: must be an integer from 1 to 1000");
      return send(res, 200, { decisions: await s.listDecisions(token, ns, name, n) });
    }
    if (req.method === "GET" && rest === "/audit")
      return send(res, 200, { entries: await s.auditTrail(token, ns, name) });
    if (req.method === "POST" && rest === "/overrides") {
      // Authenticate before reading a body from an unknown caller.
      await s.caller(token);
      return send(res, 201, await s.setOverride(token, ns, name, await body(req)));
    }
    const sched = /^\/schedules\/([a-z0-9][-a-z0-9]{0,62})$/.exec(rest);
    if (req.method === "POST" && sched) {
      await s.caller(token);
      return send(res, 200, await s.setSchedule(token, ns, name, sched[1] as string, await body(req)));
    }
    const del = /^\/overrides\/([0-9a-f-]{36})$/.exec(rest);
    if (req.method === "DELETE" && del) {
      await s.removeOverride(token, ns, name, del[1] as string);
      res.writeHead(204).end();
      return;
    }
    throw new ApiError(404, `${req.method} ${url.pathname}: no such endpoint (see /openapi.json)`);
  }

  /** Binds "host:port" (port 0 = any free one) and resolves to the port, as the gRPC servers do. */
  async listen(address: string): Promise<number> {
    const i = address.lastIndexOf(":");
    const host = address.slice(0, i).replace(/^\[(.*)\]$/, "$1");
    const port = Number(address.slice(i + 1));
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host || undefined, () => resolve());
    });
    const a = this.server.address();
    return typeof a === "object" && a ? a.port : port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
