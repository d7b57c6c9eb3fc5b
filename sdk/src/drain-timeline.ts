import type { ServerAdapter } from "./server-adapter.js";

/** How long each step of a drain may take; see `drainTimingFor` for the defaults. */
export interface DrainTiming {
  /** Keep serving at least this long after going not-ready (routing updates take time). */
  propagationMinMs: number;
  /** …and end the wait once no request has arrived for this long (the routes have moved). */
  propagationQuietMs: number;
  /** …but never wait longer than this (capped at 40 % of the drain deadline). */
  propagationMaxMs: number;
  /** Time kept at the end of the deadline for flushing telemetry (capped at 20 % of it). */
  flushMs: number;
}

/**
 * Defaults by environment. In Kubernetes, endpoint changes reach kube-proxy, ingresses and load
 * balancers within seconds, so the propagation wait is 3 to 10 s, ending after 2 s without a request.
 * Outside (local mode, a VM behind a balancer Ballast controls) routing changes at once.
 */
export function drainTimingFor(env: NodeJS.ProcessEnv): DrainTiming {
  return env.KUBERNETES_SERVICE_HOST
    ? { propagationMinMs: 3000, propagationQuietMs: 2000, propagationMaxMs: 10_000, flushMs: 5000 }
    : { propagationMinMs: 0, propagationQuietMs: 300, propagationMaxMs: 2000, flushMs: 2000 };
}

export interface DrainHooks {
  adapters(): readonly ServerAdapter[];
  inflight(): number;
  /** performance.now() of the latest request arrival. */
  lastArrival(): number;
  /** Flushes telemetry (lazy agents, the final report); must give up within `budgetMs`. */
  flush(budgetMs: number): Promise<void>;
  /** Told about each step, with milliseconds since the drain began. */
  step?(name: DrainStep, atMs: number): void;
}

export type DrainStep = "goaway" | "stop-accepting" | "idle" | "force" | "flushed";

export interface DrainResult {
  /** Every request finished before the deadline (nothing was cut off). */
  finished: boolean;
  /** Milliseconds spent in the propagation wait. */
  propagationMs: number;
  /** Milliseconds from the start to the end of the drain. */
  totalMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The zero-loss drain timeline (the caller has already reported not-ready):
 *
 * 1. Ask clients to move while still serving: `Connection: close` on HTTP/1.1, graceful GOAWAY on
 *    HTTP/2 and gRPC.
 * 2. Keep serving through the propagation wait: at least `propagationMinMs`, then until no request has
 *    arrived for `propagationQuietMs` (measured from the start), at most `propagationMaxMs`.
 * 3. Stop accepting: close listeners, close idle keep-alive sockets, final GOAWAY.
 * 4. Wait for in-flight requests until the deadline less the flush reserve; then close what is left.
 * 5. Flush telemetry within what remains of the deadline.
 */
export async function runDrain(
  deadlineMs: number,
  timing: DrainTiming,
  hooks: DrainHooks,
): Promise<DrainResult> {
  const t0 = performance.now();
  const at = () => performance.now() - t0;
  const step = (name: DrainStep) => hooks.step?.(name, at());
  const flushReserve = Math.min(timing.flushMs, deadlineMs * 0.2);
  const propagationMax = Math.min(timing.propagationMaxMs, deadlineMs * 0.4);
  const propagationMin = Math.min(timing.propagationMinMs, propagationMax);

  for (const a of hooks.adapters()) a.beginDrain();
  step("goaway");

  for (;;) {
    const elapsed = at();
    if (elapsed >= propagationMax) break;
    const quietFor = performance.now() - Math.max(hooks.lastArrival(), t0);
    if (elapsed >= propagationMin && quietFor >= timing.propagationQuietMs) break;
    await sleep(Math.min(25, Math.max(1, timing.propagationQuietMs - quietFor)));
  }
  const propagationMs = at();

  for (const a of hooks.adapters()) a.stopAccepting();
  step("stop-accepting");

  const inflightUntil = deadlineMs - flushReserve;
  while (hooks.inflight() > 0 && at() < inflightUntil) await sleep(5);
  const finished = hooks.inflight() === 0;
  if (finished) step("idle");
  else {
    for (const a of hooks.adapters()) a.forceClose();
    step("force");
  }

  const budget = Math.max(0, deadlineMs - at());
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    hooks.flush(budget).catch(() => {}),
    new Promise<void>((r) => {
      timer = setTimeout(r, budget);
    }),
  ]);
  clearTimeout(timer);
  step("flushed");
  return { finished, propagationMs, totalMs: at() };
}
