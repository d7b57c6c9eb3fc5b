// The smallest HTTP service, with or without @ballast/sdk, for measuring what the SDK costs per request.
// BALLAST_INSTRUMENT=1 instruments the server; =background runs the SDK (agent link, reports,
// event-loop sampling) without attaching it to the server, so a bench can tell the request path's cost
// from what the SDK's background work does to the rest of the process.
import { createServer } from "node:http";
import { ballast, instrument } from "@ballast/sdk";

const server = createServer((_req, res) => {
  res.end("hello world\n");
});
// BALLAST_IDLE_REPORT_EVERY_MS=0 reports every window even when idle, so a bench can count the
// reporting work of a busy server on an idle one.
const idleEvery = process.env.BALLAST_IDLE_REPORT_EVERY_MS;
const options = {
  serviceName: "hello-world",
  ...(idleEvery ? { idleReportEveryMs: Number(idleEvery) } : {}),
};
const mode = process.env.BALLAST_INSTRUMENT;
const sdk = mode === "1" ? instrument(server, options) : mode === "background" ? ballast(options) : undefined;
server.listen(Number(process.env.PORT ?? 8080), "127.0.0.1", () => {
  sdk?.ready();
  process.stdout.write("listening\n");
});
