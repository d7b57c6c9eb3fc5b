import { rmSync } from "node:fs";
import {
  type AppMessage,
  type Command,
  InvalidMessageError,
  MAX_APPS_PER_POD,
  POD_LINK_MAX_MESSAGE_BYTES,
  PodLinkService,
  validateAppMessage,
} from "@ballast/proto";
import { Server, ServerCredentials, type ServerDuplexStream, status } from "@grpc/grpc-js";
import type { AppRegistry, ConnectedApp } from "./app-registry.js";

export interface PodLinkServerOptions {
  socketPath: string;
  registry: AppRegistry;
  /** Report interval the agent asks apps for, in ms. */
  reportIntervalMs: number;
  log: (line: string) => void;
}

/**
 * The agent's PodLink server on a unix socket. Each stream must open with a valid hello; any invalid
 * message ends that stream with INVALID_ARGUMENT naming the field, and other apps are not affected.
 */
export class PodLinkServer {
  private readonly server = new Server({ "grpc.max_receive_message_length": POD_LINK_MAX_MESSAGE_BYTES });

  constructor(private readonly options: PodLinkServerOptions) {
    this.server.addService(PodLinkService, {
      connect: (call: ServerDuplexStream<AppMessage, Command>) => this.onStream(call),
    });
  }

  async start(): Promise<void> {
    rmSync(this.options.socketPath, { force: true });
    await new Promise<void>((resolve, reject) =>
      this.server.bindAsync(`unix://${this.options.socketPath}`, ServerCredentials.createInsecure(), (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }

  private onStream(call: ServerDuplexStream<AppMessage, Command>): void {
    const { registry, log } = this.options;
    let app: ConnectedApp | undefined;
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      if (app) registry.remove(app);
    };
    call.on("data", (message: AppMessage) => {
      if (closed) return;
      try {
        validateAppMessage(message, app === undefined);
      } catch (e) {
        const details = e instanceof InvalidMessageError ? e.message : String(e);
        log(`podlink: refused a message${app ? ` from ${app.serviceName}/${app.pid}` : ""}: ${details}`);
        close();
        call.emit("error", { code: status.INVALID_ARGUMENT, details });
        return;
      }
      const body = message.body;
      if (!body) return;
      switch (body.$case) {
        case "hello":
          if (registry.list().length >= MAX_APPS_PER_POD) {
            // Each app costs memory and a share of every PodReport: the count is bounded.
            closed = true;
            call.emit("error", {
              code: status.RESOURCE_EXHAUSTED,
              details: `at most ${MAX_APPS_PER_POD} apps per agent`,
            });
            return;
          }
          app = registry.add(body.value.serviceName, body.value.pid, (c) => {
            if (!closed) call.write(c);
          });
          call.write({
            body: { $case: "setReportInterval", value: { intervalMs: this.options.reportIntervalMs } },
          });
          log(`podlink: app ${app.serviceName} pid ${app.pid} connected`);
          return;
        case "report":
          if (app) registry.addLoad(app, body.value);
          return;
        case "state":
          if (app) registry.setState(app, body.value);
          return;
      }
    });
    call.on("end", () => {
      close();
      call.end();
    });
    call.on("error", close);
    call.on("cancelled", close);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    rmSync(this.options.socketPath, { force: true });
  }

  forceStop(): void {
    this.server.forceShutdown();
    rmSync(this.options.socketPath, { force: true });
  }
}
