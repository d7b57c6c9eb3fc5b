import {
  type AgentCommand,
  type AgentHello,
  type AgentMessage,
  Backoff,
  CLIENT_CHANNEL_OPTIONS,
  type Command,
  AgentLinkClient as GeneratedClient,
  type PodReport,
} from "@ballast/proto";
import { type ClientDuplexStream, credentials, type ServiceError } from "@grpc/grpc-js";
import { DropOldestBuffer } from "./report-buffer.js";

export interface AgentLinkClientOptions {
  /** Controller address, host:port. */
  target: string;
  hello: AgentHello;
  /** Reports kept while the controller is unreachable. */
  bufferCapacity: number;
  onCommand: (command: Command) => void;
  log: (line: string) => void;
  backoff?: Backoff;
}

/**
 * The agent's end of AgentLink. Reports go into a bounded buffer and are written while connected; when
 * the controller is unreachable the oldest are dropped (the count travels in every report) and the
 * stream is reopened with jittered exponential backoff.
 */
export class AgentLinkClient {
  private readonly client: GeneratedClient;
  private readonly buffer: DropOldestBuffer<PodReport>;
  private readonly backoff: Backoff;
  private call: ClientDuplexStream<AgentMessage, AgentCommand> | undefined;
  private writable = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private seq = 0;

  constructor(private readonly options: AgentLinkClientOptions) {
    this.client = new GeneratedClient(options.target, credentials.createInsecure(), CLIENT_CHANNEL_OPTIONS);
    this.buffer = new DropOldestBuffer(options.bufferCapacity);
    this.backoff = options.backoff ?? new Backoff({ initialMs: 200, maxMs: 10_000, factor: 2 });
    this.open();
  }

  /** The controller accepted the stream. */
  get connected(): boolean {
    return this.call !== undefined && this.writable;
  }

  get dropped(): number {
    return this.buffer.dropped;
  }

  get buffered(): number {
    return this.buffer.length;
  }

  /** Queues a report (its seq is set here) and sends what can be sent. */
  report(report: Omit<PodReport, "seq" | "droppedReports">): void {
    this.buffer.push({ ...report, seq: ++this.seq, droppedReports: 0 });
    this.flush();
  }

  private open(): void {
    if (this.closed) return;
    const call = this.client.connect();
    this.call = call;
    // Reports wait for the controller's response headers: until then the stream may still fail, and
    // whatever was written into it would be lost without being counted.
    this.writable = false;
    call.on("data", (c: AgentCommand) => {
      if (c.command) this.options.onCommand(c.command);
    });
    call.on("metadata", () => {
      this.backoff.reset();
      this.writable = true;
      this.flush();
    });
    call.on("error", (err: ServiceError) => this.lost(call, err));
    call.on("end", () => this.lost(call));
    call.on("drain", () => {
      this.writable = true;
      this.flush();
    });
    call.write({ body: { $case: "hello", value: this.options.hello } });
  }

  private flush(): void {
    const call = this.call;
    if (!call) return;
    while (this.writable && this.buffer.length > 0) {
      // The dropped count is taken at send time: it covers every report lost before this one.
      const report = { ...(this.buffer.shift() as PodReport), droppedReports: this.buffer.dropped };
      this.writable = call.write({ body: { $case: "report", value: report } });
    }
  }

  private lost(call: ClientDuplexStream<AgentMessage, AgentCommand>, err?: ServiceError): void {
    if (this.call !== call) return;
    this.call = undefined;
    this.writable = false;
    if (this.closed) return;
    const delay = this.backoff.nextDelayMs();
    this.options.log(
      `agentlink: ${err ? `${err.code} ${err.details}` : "stream ended"}; reconnecting in ${delay} ms`,
    );
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.call?.cancel();
    this.call = undefined;
    this.client.close();
  }
}
