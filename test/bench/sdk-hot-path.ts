// What the SDK adds to one HTTP request, measured in process without the network: Node publishes a
// request's start and its response's finish on diagnostics channels (and allocates their messages)
// only when someone listens; the SDK listens and counts. The figure is the time of those two publishes
// with the SDK's work, per request, over a loop of real IncomingMessage/ServerResponse objects.
import { channel } from "node:diagnostics_channel";
import { createServer, IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import { join } from "node:path";
import { repoRoot } from "../support/processes.js";
import type { Figure } from "./figure.js";

const N = 2_000_000;

export async function sdkHotPath(): Promise<Figure[]> {
  const { Ballast } = (await import(
    join(repoRoot, "sdk/dist/src/index.js")
  )) as typeof import("../../sdk/src/index.js");
  const server = createServer();
  const b = new Ballast({ handleSignals: false, agentSocket: "" }).attachHttp(server);
  b.startWindows();
  const socket = new Socket();
  const request = new IncomingMessage(socket);
  const response = new ServerResponse(request);
  const start = channel("http.server.request.start");
  const finish = channel("http.server.response.finish");
  const loop = () => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      // What Node does per request when the channels have subscribers.
      if (start.hasSubscribers) start.publish({ request, response, socket, server });
      if (finish.hasSubscribers) finish.publish({ request, response, socket, server });
    }
    return Number(process.hrtime.bigint() - t0) / N;
  };
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) runs.push(loop());
  const completed = b.meter.take().requestsCompleted;
  await b.close();
  if (completed !== 5 * N) throw new Error(`counted ${completed} requests, expected ${5 * N}`);
  runs.sort((a, b) => a - b);
  return [
    { name: "sdk.http.hot_path_ns", value: Math.round((runs[2] as number) * 10) / 10, unit: "ns/request" },
  ];
}
