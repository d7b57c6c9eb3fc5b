import { EventEmitter } from "node:events";
import {
  FreezeDirection,
  OverrideKind,
  ReplicaControlService as ReplicaControlDefinition,
  type ReplicaControlServer,
  type ScaleState,
  type WatchDecisionsRequest,
  type Decision as WireDecision,
  type Override as WireOverride,
  type WorkloadKey,
} from "@ballast/proto";
import {
  type Metadata,
  type Server,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
  status,
} from "@grpc/grpc-js";
import type { Override } from "../scaling/overrides.js";
import type { Decision } from "../scaling/types.js";
import { ApiError } from "./caller.js";
import type { ReplicaControlService, ScaleView } from "./replica-control-service.js";

const GRPC_CODE: Record<number, status> = {
  400: status.INVALID_ARGUMENT,
  401: status.UNAUTHENTICATED,
  403: status.PERMISSION_DENIED,
  404: status.NOT_FOUND,
  409: status.ABORTED,
  429: status.RESOURCE_EXHAUSTED,
  503: status.UNAVAILABLE,
};

const KIND_TO_WIRE: Record<Override["kind"], OverrideKind> = {
  exact: OverrideKind.OVERRIDE_KIND_EXACT,
  floor: OverrideKind.OVERRIDE_KIND_FLOOR,
  ceiling: OverrideKind.OVERRIDE_KIND_CEILING,
  "freeze-up": OverrideKind.OVERRIDE_KIND_FREEZE_UP,
  "freeze-down": OverrideKind.OVERRIDE_KIND_FREEZE_DOWN,
};
const KIND_FROM_WIRE = new Map(Object.entries(KIND_TO_WIRE).map(([k, v]) => [v, k as Override["kind"]]));

function token(metadata: Metadata): string | undefined {
  const h = metadata.get("authorization")[0];
  return typeof h === "string" && h.startsWith("Bearer ") ? h.slice(7).trim() : undefined;
}

function key(w: WorkloadKey | undefined): [string, string] {
  if (!w?.namespace || !w.name) throw new ApiError(400, "workload: namespace and name are required");
  return [w.namespace, w.name];
}

const wireOverride = (o: Override): WireOverride => ({
  id: o.id,
  kind: KIND_TO_WIRE[o.kind],
  replicas: o.replicas ?? 0,
  expiresAt: new Date(o.expiresAt),
  reason: o.reason,
  setBy: o.setBy,
  setAt: new Date(o.setAt),
});

export const wireDecision = (d: Decision, namespace: string, name: string): WireDecision => ({
  at: new Date(d.at),
  workload: { namespace, name },
  currentReplicas: d.currentReplicas,
  desiredReplicas: d.desiredReplicas,
  summary: d.summary,
  stages: d.stages.map((s) => ({ stage: s.stage, from: s.from, to: s.to, reason: s.reason })),
});

const wireScale = (v: ScaleView): ScaleState => ({
  workload: { namespace: v.namespace, name: v.name },
  specReplicas: v.specReplicas ?? 0,
  readyReplicas: 0,
  minReplicas: v.minReplicas,
  maxReplicas: v.maxReplicas,
  overrides: v.overrides.map(wireOverride),
  lastDecision: v.lastDecision ? wireDecision(v.lastDecision, v.namespace, v.name) : undefined,
});

function unary<Req, Res>(fn: (req: Req, metadata: Metadata) => Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    fn(call.request, call.metadata).then(
      (res) => callback(null, res),
      (e) =>
        callback({
          code: e instanceof ApiError ? (GRPC_CODE[e.status] ?? status.UNKNOWN) : status.INTERNAL,
          details: (e as Error).message,
        }),
    );
  };
}

/** A decision as it is made, for WatchDecisions. */
export interface DecisionFeed extends EventEmitter {
  on(event: "decision", listener: (namespace: string, name: string, d: Decision) => void): this;
}

export function decisionFeed(): DecisionFeed {
  return new EventEmitter() as DecisionFeed;
}

/** Serves ballast.v1.ReplicaControl on a gRPC server, with the HTTP API's semantics. */
export function addReplicaControl(server: Server, service: ReplicaControlService, feed: DecisionFeed): void {
  const impl: ReplicaControlServer = {
    getScale: unary(async (req, md) => wireScale(await service.getScale(token(md), ...key(req.workload)))),
    setReplicas: unary(async (req, md) => {
      const kind = KIND_FROM_WIRE.get(req.kind);
      if (kind !== "exact" && kind !== "floor" && kind !== "ceiling")
        throw new ApiError(
          400,
          "kind: must be OVERRIDE_KIND_EXACT, _FLOOR or _CEILING (use Freeze for freezes)",
        );
      const o = await service.setOverride(token(md), ...key(req.workload), {
        kind,
        replicas: req.replicas,
        ttlSeconds: req.ttlSeconds,
        reason: req.reason,
      });
      return wireOverride(o);
    }),
    freeze: unary(async (req, md) => {
      const until = req.until?.getTime();
      if (until === undefined || !Number.isFinite(until)) throw new ApiError(400, "until: required");
      const ttlSeconds = Math.ceil((until - Date.now()) / 1000);
      const kinds: Override["kind"][] =
        req.direction === FreezeDirection.FREEZE_DIRECTION_UP
          ? ["freeze-up"]
          : req.direction === FreezeDirection.FREEZE_DIRECTION_DOWN
            ? ["freeze-down"]
            : req.direction === FreezeDirection.FREEZE_DIRECTION_BOTH
              ? ["freeze-up", "freeze-down"]
              : [];
      if (kinds.length === 0) throw new ApiError(400, "direction: must be UP, DOWN or BOTH");
      let first: Override | undefined;
      for (const kind of kinds) {
        const o = await service.setOverride(token(md), ...key(req.workload), {
          kind,
          ttlSeconds,
          reason: req.reason,
        });
        first ??= o;
      }
      return wireOverride(first as Override);
    }),
    setSchedule: unary(async (req, md) =>
      wireScale(
        await service.setSchedule(token(md), ...key(req.workload), req.schedule, {
          enabled: req.enabled,
          reason: req.reason,
        }),
      ),
    ),
    listDecisions: unary(async (req, md) => {
      const [ns, name] = key(req.workload);
      const limit = req.limit === 0 ? 100 : req.limit;
      if (limit < 1 || limit > 1000) throw new ApiError(400, "limit: must be from 1 to 1000 (0 means 100)");
      const list = await service.listDecisions(token(md), ns, name, limit);
      return { decisions: list.reverse().map((d) => wireDecision(d, ns, name)) };
    }),
    watchDecisions: (call: ServerWritableStream<WatchDecisionsRequest, WireDecision>) => {
      const t = token(call.metadata);
      let ns: string;
      let name: string;
      const fail = (e: unknown) =>
        call.destroy(
          Object.assign(new Error((e as Error).message), {
            code: e instanceof ApiError ? GRPC_CODE[e.status] : status.INTERNAL,
            details: (e as Error).message,
          }),
        );
      try {
        [ns, name] = key(call.request.workload);
      } catch (e) {
        fail(e);
        return;
      }
      service.getScale(t, ns, name).then(() => {
        const listener = (n: string, w: string, d: Decision) => {
          if (n === ns && w === name) call.write(wireDecision(d, n, w));
        };
        feed.on("decision", listener);
        call.on("cancelled", () => feed.off("decision", listener));
        call.on("close", () => feed.off("decision", listener));
      }, fail);
    },
  };
  server.addService(ReplicaControlDefinition, impl);
}
