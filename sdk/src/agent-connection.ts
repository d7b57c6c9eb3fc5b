import {
  type AppHello,
  type AppMessage,
  type AppState,
  Backoff,
  CLIENT_CHANNEL_OPTIONS,
  type Command,
  type LoadReport,
  PodLinkClient,
} from "@ballast/proto";
import { type ClientDuplexStream, credentials, type ServiceError } from "@grpc/grpc-js";

export interface AgentConnectionEvents {
  /** A command from the agent (forwarded from the controller, or the agent's own). */
  onCommand(command: Command): void;
  /** The current state, resent after every (re)connect so the agent never holds a stale one. */
  currentState(): AppState;
  /** Something went wrong on the link; for logs. */
  onError?(error: Error): void;
}

/**
 * The app's end of PodLink: one stream to the agent's unix socket, reopened with jittered backoff when
 * the agent restarts. Reports written while disconnected are dropped (the next window carries on);
 * state is resent on every reconnect.
 */
export class AgentConnection {
  private readonly client: PodLinkClient;
  private call: ClientDuplexStream<AppMessage, Command> | undefined;
  private readonly backoff = new Backoff({ initialMs: 50, maxMs: 2_000, factor: 2 });
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    socketPath: string,
    private readonly hello: AppHello,
    private readonly events: AgentConnectionEvents,
  ) {
    this.client = new PodLinkClient(
      `unix://${socketPath}`,
      credentials.createInsecure(),
      CLIENT_CHANNEL_OPTIONS,
    );
    this.open();
  }

  get connected(): boolean {
    return this.call !== undefined;
  }

  private open(): void {
    if (this.closed) return;
    const call = this.client.connect();
    this.call = call;
    call.on("data", (command: Command) => {
      this.backoff.reset();
      this.events.onCommand(command);
    });
    call.on("error", (err: ServiceError) => this.lost(call, err));
    call.on("end", () => this.lost(call));
    call.write({ body: { $case: "hello", value: this.hello } });
    call.write({ body: { $case: "state", value: this.events.currentState() } });
  }

  private lost(call: ClientDuplexStream<AppMessage, Command>, err?: ServiceError): void {
    if (this.call !== call) return;
    this.call = undefined;
    if (this.closed) return;
    if (err && this.events.onError) this.events.onError(err);
    this.retryTimer = setTimeout(() => this.open(), this.backoff.nextDelayMs());
    this.retryTimer.unref();
  }

  sendReport(report: LoadReport): void {
    this.call?.write({ body: { $case: "report", value: report } });
  }

  sendState(state: AppState): void {
    this.call?.write({ body: { $case: "state", value: state } });
  }

  /** Ends the stream after what was written is flushed, then closes the channel. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const call = this.call;
    this.call = undefined;
    if (call) {
      await new Promise<void>((resolve) => {
        const done = () => resolve();
        call.once("end", done);
        call.once("error", done);
        call.once("close", done);
        call.end();
        setTimeout(done, 500).unref();
      });
    }
    this.client.close();
  }
}
