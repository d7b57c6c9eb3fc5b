import { type AppReport, type AppState, type Command, DrainState, type LoadReport } from "@ballast/proto";
import { mergeLoadReports } from "./load-merge.js";

/** Windows held per app between two PodReports; beyond it they are merged early (memory stays bounded). */
const MAX_PENDING = 32;

/** One app process connected over PodLink. */
export interface ConnectedApp {
  id: number;
  serviceName: string;
  pid: number;
  state: AppState;
  /** Windows received since the last PodReport; merged when it is made, bounded by MAX_PENDING. */
  pending: LoadReport[];
  send(command: Command): void;
}

/** The apps connected to this agent and their latest state. */
export class AppRegistry {
  private readonly apps = new Map<number, ConnectedApp>();
  private nextId = 1;
  private everReady = false;
  private readonly listeners = new Set<() => void>();

  add(serviceName: string, pid: number, send: (c: Command) => void): ConnectedApp {
    const app: ConnectedApp = {
      id: this.nextId++,
      serviceName,
      pid,
      state: {
        ready: false,
        drain: DrainState.DRAIN_STATE_SERVING,
        inflight: 0,
        warmingUp: false,
        pendingGates: [],
        lazyAgents: [],
      },
      pending: [],
      send,
    };
    this.apps.set(app.id, app);
    this.changed();
    return app;
  }

  remove(app: ConnectedApp): void {
    this.apps.delete(app.id);
    this.changed();
  }

  addLoad(app: ConnectedApp, report: LoadReport): void {
    app.pending.push(report);
    if (app.pending.length > MAX_PENDING) app.pending = [mergeLoadReports(app.pending) as LoadReport];
  }

  setState(app: ConnectedApp, state: AppState): void {
    app.state = state;
    if (state.ready) this.everReady = true;
    this.changed();
  }

  list(): ConnectedApp[] {
    return [...this.apps.values()];
  }

  /** Ready: at least one app, and every app ready and serving. */
  get ready(): boolean {
    const apps = this.list();
    return (
      apps.length > 0 && apps.every((a) => a.state.ready && a.state.drain === DrainState.DRAIN_STATE_SERVING)
    );
  }

  /** Some app has been ready once (the startup probe's question). */
  get started(): boolean {
    return this.everReady;
  }

  get draining(): boolean {
    return this.list().some((a) => a.state.drain !== DrainState.DRAIN_STATE_SERVING);
  }

  /** Every app has drained (or none is connected). */
  get drained(): boolean {
    return this.list().every((a) => a.state.drain === DrainState.DRAIN_STATE_DRAINED);
  }

  broadcast(command: Command): void {
    for (const app of this.apps.values()) app.send(command);
  }

  /** Every app's state and the merge of its windows since the last call (each window goes out once). */
  takeReports(): AppReport[] {
    return this.list().map((a) => {
      const load = mergeLoadReports(a.pending);
      a.pending = [];
      return { serviceName: a.serviceName, pid: a.pid, ready: a.state.ready, drain: a.state.drain, load };
    });
  }

  /** Calls `fn` after every change of membership or state; returns an unsubscribe function. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }
}
