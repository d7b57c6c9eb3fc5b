// The smallest HTTP service, with or without @ballast/sdk (BALLAST_INSTRUMENT=1), for measuring what
// the SDK costs per request.
import { createServer } from "node:http";
import { instrument } from "@ballast/sdk";

const server = createServer((_req, res) => {
  res.end("hello world\n");
});
// BALLAST_IDLE_REPORT_EVERY_MS=0 reports every window even when idle, so a bench can count the
// reporting work of a busy server on an idle one.
const idleEvery = process.env.BALLAST_IDLE_REPORT_EVERY_MS;
const ballast =
  process.env.BALLAST_INSTRUMENT === "1"
    ? instrument(server, {
        serviceName: "hello-world",
        ...(idleEvery ? { idleReportEveryMs: Number(idleEvery) } : {}),
      })
    : undefined;
server.listen(Number(process.env.PORT ?? 8080), "127.0.0.1", () => {
  ballast?.ready();
  process.stdout.write("listening\n");
});
