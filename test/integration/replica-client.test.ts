// The SDK's replica client against the real replica-control HTTP server and service (token-file
// authentication, as local mode uses), over a real socket. The workload behind it is in memory here;
// the kube tier runs the same API against a real control plane.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { durationSeconds, ReplicaApiError, ReplicaClient } from "@ballast/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allowAuthenticated } from "../../controller/src/api/access-review.js";
import { AuditLog } from "../../controller/src/api/audit-log.js";
import { HttpApi } from "../../controller/src/api/http-api.js";
import { RateLimiter } from "../../controller/src/api/rate-limiter.js";
import {
  type ControlledWorkload,
  ReplicaControlService,
} from "../../controller/src/api/replica-control-service.js";
import { TokenFileAuthenticator } from "../../controller/src/api/token-review.js";
import type { Override } from "../../controller/src/scaling/overrides.js";

describe("replica client", () => {
  const dir = mkdtempSync(join(tmpdir(), "ballast-replicas-"));
  let api: HttpApi;
  let url: string;
  let overrides: Override[] = [];
  const events: string[] = [];
  const workload: ControlledWorkload = {
    namespace: "shop",
    name: "web",
    targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
    minReplicas: 2,
    maxReplicas: 50,
    specReplicas: () => 6,
    decisions: () => [],
    overrides: () => overrides,
    setOverrides: async (list) => {
      overrides = list;
    },
    scheduleNames: () => [],
    setScheduleSwitch: async () => {},
    event: async (_t, reason, message) => {
      events.push(`${reason}: ${message}`);
    },
  };

  beforeAll(async () => {
    const tokens = join(dir, "tokens");
    writeFileSync(tokens, "# token,user,groups\ns3cret,alice,ops\n");
    api = new HttpApi(
      new ReplicaControlService({
        directory: {
          get: (ns, name) => (ns === "shop" && name === "web" ? workload : undefined),
          canWrite: () => true,
        },
        authn: new TokenFileAuthenticator(tokens),
        authz: allowAuthenticated,
        audit: new AuditLog(join(dir, "audit.jsonl")),
        limiter: new RateLimiter(1, 8),
        clock: { now: () => Date.now() },
        log: () => {},
      }),
    );
    url = `http://127.0.0.1:${await api.listen("127.0.0.1:0")}`;
  });
  afterAll(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("holds, reads and releases an override", async () => {
    const replicas = new ReplicaClient({ url, token: "s3cret", namespace: "shop", policy: "web" });
    const o = await replicas.hold(40, { for: "1h", reason: "flash sale" });
    expect(o).toMatchObject({ kind: "exact", replicas: 40, setBy: "alice", reason: "flash sale" });
    expect(o.expiresAt - o.setAt).toBe(3600_000);
    expect((await replicas.scale()).overrides).toHaveLength(1);
    await replicas.release(o);
    expect((await replicas.scale()).overrides).toHaveLength(0);
    expect(events.some((e) => e.startsWith("OverrideSet: set exact 40"))).toBe(true);
  });

  it("answers bad tokens, bad input, unknown policies and floods with the right status", async () => {
    const wrong = new ReplicaClient({ url, token: "nope", namespace: "shop", policy: "web" });
    await expect(wrong.hold(3, { for: 60, reason: "x" })).rejects.toMatchObject({ status: 401 });
    const other = new ReplicaClient({ url, token: "s3cret", namespace: "shop", policy: "api" });
    await expect(other.scale()).rejects.toMatchObject({ status: 404 });
    const c = new ReplicaClient({ url, token: "s3cret", namespace: "shop", policy: "web" });
    await expect(c.hold(-1, { for: 60, reason: "x" })).rejects.toThrow(
      /^replicas: must be an integer from 0 to 100000/,
    );
    expect(() => durationSeconds("soon")).toThrow(/^for: expected a duration/);
    let limited: unknown;
    for (let i = 0; i < 10 && !limited; i++) await c.scale().catch((e) => (limited = e));
    expect(limited).toBeInstanceOf(ReplicaApiError);
    expect((limited as ReplicaApiError).status).toBe(429);
  });
});
