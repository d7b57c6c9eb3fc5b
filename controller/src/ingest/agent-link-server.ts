import {
  AGENT_LINK_MAX_MESSAGE_BYTES,
  type AgentCommand,
  AgentLinkService,
  type AgentMessage,
  type Command,
  InvalidMessageError,
  validateAgentMessage,
} from "@ballast/proto";
import { Metadata, Server, ServerCredentials, type ServerDuplexStream, status } from "@grpc/grpc-js";
import type { Clock } from "../clock.js";
import type { PodRecord, PodRegistry } from "./pod-registry.js";

export interface AgentLinkServerOptions {
  registry: PodRegistry;
  clock: Clock;
  log: (line: string) => void;
  /** Called after every accepted report (local mode wakes its loop on readiness changes). */
  onReport?: (record: PodRecord) => void;
  /** Called when an agent says hello (kube mode resolves the pod's workload). */
  onConnect?: (record: PodRecord) => void;
}

/**
 * The controller's AgentLink server. Every message is validated; an invalid one ends only that agent's
 * stream, with INVALID_ARGUMENT naming the field. Oversized messages are refused by grpc-js itself
 * (RESOURCE_EXHAUSTED) through the receive limit.
 */
export class AgentLinkServer {
  /** The gRPC server; other Ballast services (ReplicaControl) share its port. */
  readonly server = new Server({ "grpc.max_receive_message_length": AGENT_LINK_MAX_MESSAGE_BYTES });
  private port = 0;

  constructor(private readonly options: AgentLinkServerOptions) {
    this.server.addService(AgentLinkService, {
      connect: (call: ServerDuplexStream<AgentMessage, AgentCommand>) => this.onStream(call),
    });
  }

  /** Binds (e.g. "127.0.0.1:0") and resolves to the port. */
  async listen(address: string): Promise<number> {
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(address, ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
    return this.port;
  }

  private onStream(call: ServerDuplexStream<AgentMessage, AgentCommand>): void {
    const { registry, clock, log } = this.options;
    // Headers first: the agent holds its buffered reports until it knows the stream was accepted.
    call.sendMetadata(new Metadata());
    let record: PodRecord | undefined;
    let ended = false;
    const send = (command: Command): boolean => {
      if (ended) return false;
      call.write({ command });
      return true;
    };
    const end = () => {
      if (ended) return;
      ended = true;
      if (record) registry.disconnect(record);
    };
    call.on("data", (message: AgentMessage) => {
      if (ended) return;
      try {
        validateAgentMessage(message, record === undefined);
      } catch (e) {
        const details = e instanceof InvalidMessageError ? e.message : String(e);
        log(`agentlink: refused a message${record ? ` from ${record.key}` : ""}: ${details}`);
        end();
        call.emit("error", { code: status.INVALID_ARGUMENT, details });
        return;
      }
      const body = message.body;
      if (body?.$case === "hello") {
        record = registry.connect(body.value, clock.now(), send);
        log(`agentlink: ${record.key} connected (agent ${body.value.agentVersion})`);
        this.options.onConnect?.(record);
      } else if (body?.$case === "report" && record) {
        registry.addReport(record, body.value, clock.now());
        this.options.onReport?.(record);
      }
    });
    call.on("end", () => {
      end();
      call.end();
    });
    call.on("error", end);
    call.on("cancelled", end);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 1000);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
