import { LazyAgentState, type LazyAgentStatus } from "@ballast/proto";

export interface LazyAgentOptions<T> {
  /**
   * Load at once, before the app may be ready: for agents whose instrumentation patches modules as
   * they load and so must come first. Readiness waits for it (a failure is reported, not fatal).
   */
  mustPreload?: boolean;
  /** The event loop counts as calm while timers fire at most this late, in ms; default 20. */
  calmDelayMs?: number;
  /** …for this long in a row before a pending agent loads, in ms; default 500. */
  calmForMs?: number;
  /** A loader still running after this long is reported failed, in ms; default 30000. */
  timeoutMs?: number;
  /** Called in the drain's flush step (e.g. a tracer's forceFlush), within the time left. */
  flush?: (agent: T, budgetMs: number) => unknown;
}

/** A registered lazy agent. */
export interface LazyAgent<T> {
  readonly name: string;
  readonly state: "pending" | "loading" | "loaded" | "failed";
  /** The loader's result once loaded. */
  readonly value: T | undefined;
  /** Milliseconds the loader took, once it finished. */
  readonly loadMs: number | undefined;
  readonly error: Error | undefined;
  readonly preloaded: boolean;
  /** Loads now unless already loading or loaded; resolves to the agent (rejects if it failed). */
  load(): Promise<T>;
}

const NAME = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/;
const SAMPLE_MS = 50;

class Entry<T> implements LazyAgent<T> {
  state: LazyAgent<T>["state"] = "pending";
  value: T | undefined;
  loadMs: number | undefined;
  error: Error | undefined;
  preloaded = false;
  private promise: Promise<T> | undefined;

  constructor(
    readonly name: string,
    private readonly loader: () => T | Promise<T>,
    readonly options: LazyAgentOptions<T>,
    private readonly changed: () => void,
  ) {}

  load(): Promise<T> {
    if (!this.promise) {
      this.state = "loading";
      this.changed();
      const t0 = performance.now();
      const timeoutMs = this.options.timeoutMs ?? 30_000;
      let timer: NodeJS.Timeout | undefined;
      this.promise = Promise.race([
        Promise.resolve().then(() => this.loader()),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`loader still running after ${timeoutMs} ms`)),
            timeoutMs,
          );
          timer.unref();
        }),
      ]).then(
        (value) => {
          clearTimeout(timer);
          this.loadMs = performance.now() - t0;
          this.value = value;
          this.state = "loaded";
          this.changed();
          return value;
        },
        (e: unknown) => {
          clearTimeout(timer);
          this.loadMs = performance.now() - t0;
          this.error = e instanceof Error ? e : new Error(String(e));
          this.state = "failed";
          this.changed();
          throw this.error;
        },
      );
      // Failures are reported through the status; a caller that awaits load() sees them too.
      this.promise.catch(() => {});
    }
    return this.promise;
  }

  status(): LazyAgentStatus {
    return {
      name: this.name,
      state: {
        pending: LazyAgentState.LAZY_AGENT_STATE_PENDING,
        loading: LazyAgentState.LAZY_AGENT_STATE_LOADING,
        loaded: LazyAgentState.LAZY_AGENT_STATE_LOADED,
        failed: LazyAgentState.LAZY_AGENT_STATE_FAILED,
      }[this.state],
      loadMs: this.loadMs ?? 0,
      error: (this.error?.message ?? "").slice(0, 256),
      preloaded: this.preloaded,
    };
  }
}

/**
 * Heavy optional modules (APM and tracing agents, profilers) loaded off the start-up path: each waits
 * until the app is ready and the event loop has been calm for a while, then loads, one at a time, so
 * the cost lands in idle time instead of before readiness or on the first requests. The controller
 * can ask for one at once (LoadLazyAgent), and `mustPreload` agents load before readiness.
 */
export class LazyAgents {
  private readonly entries = new Map<string, Entry<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  private calmSince = -1;
  private appReady = false;

  constructor(
    /** Called whenever an agent's state changes (the core pushes the app state). */
    private readonly changed: () => void,
    /** Registers a readiness gate; returns its resolver. */
    private readonly gate: (name: string) => () => void,
  ) {}

  register<T>(name: string, loader: () => T | Promise<T>, options: LazyAgentOptions<T> = {}): LazyAgent<T> {
    if (!NAME.test(name))
      throw new Error(`ballast: lazy agent name ${JSON.stringify(name)} must match ${NAME.source}`);
    if (this.entries.has(name)) throw new Error(`ballast: lazy agent ${name} is registered already`);
    if (this.entries.size >= 16) throw new Error("ballast: at most 16 lazy agents");
    const entry = new Entry<T>(name, loader, options, this.changed);
    this.entries.set(name, entry as Entry<unknown>);
    if (options.mustPreload) {
      entry.preloaded = true;
      const resolve = this.gate(`lazy.${name}`);
      entry.load().then(resolve, resolve);
    } else {
      this.changed();
      this.schedule();
    }
    return entry;
  }

  /** Loads `name` now (the controller asked); false when no such agent is registered. */
  loadNow(name: string): boolean {
    const e = this.entries.get(name);
    if (!e) return false;
    void e.load().catch(() => {});
    return true;
  }

  /** The app became ready (or not); pending agents only load while it is. */
  setReady(ready: boolean): void {
    this.appReady = ready;
    this.schedule();
  }

  statuses(): LazyAgentStatus[] {
    return [...this.entries.values()].map((e) => e.status());
  }

  list(): LazyAgent<unknown>[] {
    return [...this.entries.values()];
  }

  /** Runs every loaded agent's flush hook within `budgetMs`. */
  async flush(budgetMs: number): Promise<void> {
    await Promise.all(
      [...this.entries.values()]
        .filter((e) => e.state === "loaded" && e.options.flush)
        .map((e) =>
          Promise.resolve()
            .then(() => e.options.flush?.(e.value, budgetMs))
            .catch(() => {}),
        ),
    );
  }

  private pending(): Entry<unknown> | undefined {
    for (const e of this.entries.values()) if (e.state === "pending") return e;
    return undefined;
  }

  private schedule(): void {
    if (this.timer || !this.appReady || !this.pending()) return;
    this.calmSince = -1;
    let expected = performance.now() + SAMPLE_MS;
    const tick = () => {
      this.timer = undefined;
      const next = this.pending();
      if (!next || !this.appReady) return;
      const now = performance.now();
      const lateBy = now - expected;
      const opts = next.options;
      if (lateBy > (opts.calmDelayMs ?? 20)) this.calmSince = -1;
      else if (this.calmSince < 0) this.calmSince = now;
      if (this.calmSince >= 0 && now - this.calmSince >= (opts.calmForMs ?? 500)) {
        // One agent at a time; the loop must be calm again before the next.
        this.calmSince = -1;
        void next
          .load()
          .catch(() => {})
          .finally(() => this.schedule());
        return;
      }
      expected = performance.now() + SAMPLE_MS;
      this.timer = setTimeout(tick, SAMPLE_MS);
      this.timer.unref();
    };
    this.timer = setTimeout(tick, SAMPLE_MS);
    this.timer.unref();
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
