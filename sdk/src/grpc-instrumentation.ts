import type { ServerHttp2Session } from "node:http2";
import {
  type Server as GrpcServer,
  ResponderBuilder,
  ServerInterceptingCall,
  type ServerInterceptor,
  ServerListenerBuilder,
  status,
} from "@grpc/grpc-js";
import { closeSession, goawayGracefully } from "./http2-instrumentation.js";
import type { LoadMeter } from "./load-meter.js";
import { GOAWAY_GRACE_MS, later, pickFraction, type ServerAdapter } from "./server-adapter.js";

/** gRPC statuses that mean the server failed, as HTTP 5xx does; the rest are the caller's doing. */
const SERVER_ERRORS = new Set<number>([
  status.UNKNOWN,
  status.DEADLINE_EXCEEDED,
  status.RESOURCE_EXHAUSTED,
  status.UNIMPLEMENTED,
  status.INTERNAL,
  status.UNAVAILABLE,
  status.DATA_LOSS,
]);

const BALLAST_INTERCEPTOR = Symbol("ballast.interceptor");

/**
 * A grpc-js server interceptor that counts every call (unary and streaming) as one request: from the
 * call's start to its status, or to its cancellation.
 */
export function grpcInterceptor(meter: LoadMeter): ServerInterceptor {
  const interceptor: ServerInterceptor = (_method, call) => {
    let started = -1;
    const finish = (failed: boolean) => {
      if (started < 0) return;
      const s = started;
      started = -1;
      meter.end(s, failed);
    };
    return new ServerInterceptingCall(
      call,
      new ResponderBuilder()
        .withStart((next) => {
          started = meter.begin();
          next(new ServerListenerBuilder().withOnCancel(() => finish(true)).build());
        })
        .withSendStatus((st, next) => {
          finish(SERVER_ERRORS.has(st.code as number));
          next(st);
        })
        .build(),
    );
  };
  Object.defineProperty(interceptor, BALLAST_INTERCEPTOR, { value: true });
  return interceptor;
}

// grpc-js keeps its interceptors and its HTTP/2 sessions in fields that TypeScript marks private;
// they have had these names since grpc-js 1.10 and the adapter checks they are there.
interface GrpcServerInternals {
  interceptors?: ServerInterceptor[];
  sessions?: Map<ServerHttp2Session, unknown>;
}

/**
 * Instruments a `@grpc/grpc-js` server: counts calls through an interceptor and drains with GOAWAY
 * (graceful first, then `tryShutdown`, `forceShutdown` at the deadline). Rebalancing sends GOAWAY to
 * some sessions; grpc-js clients reconnect and re-resolve. For a standing maximum connection age use
 * grpc-js's own `grpc.max_connection_age_ms` server option.
 */
export class GrpcServerAdapter implements ServerAdapter {
  readonly kind = "grpc";
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly internals: GrpcServerInternals;

  constructor(
    readonly server: GrpcServer,
    meter: LoadMeter,
  ) {
    this.internals = server as unknown as GrpcServerInternals;
    const list = this.internals.interceptors;
    if (!Array.isArray(list)) {
      throw new Error(
        "ballast: this @grpc/grpc-js server has no interceptor list; create it with " +
          "new Server({ interceptors: [ballast.grpcInterceptor()] }) and call instrument(server) after",
      );
    }
    if (!list.some((i) => (i as unknown as Record<symbol, unknown>)[BALLAST_INTERCEPTOR])) {
      list.push(grpcInterceptor(meter));
    }
  }

  private sessions(): ServerHttp2Session[] {
    const s = this.internals.sessions;
    return s instanceof Map ? [...s.keys()] : [];
  }

  get connections(): number {
    return this.sessions().length;
  }

  beginDrain(): void {
    for (const s of this.sessions()) goawayGracefully(s);
  }

  stopAccepting(): void {
    this.server.tryShutdown(() => {});
  }

  forceClose(): void {
    this.server.forceShutdown();
  }

  rebalance(fraction: number, spreadMs: number): number {
    const chosen = pickFraction(this.sessions(), fraction);
    for (const s of chosen) {
      const t = later(Math.random() * spreadMs, () => {
        goawayGracefully(s);
        const c = later(GOAWAY_GRACE_MS, () => closeSession(s));
        this.timers.add(c);
      });
      this.timers.add(t);
    }
    return chosen.length;
  }

  detach(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
