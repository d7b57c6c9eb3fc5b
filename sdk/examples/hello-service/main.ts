// A small HTTP service instrumented with @ballast/sdk. Each request burns real CPU (a hash loop sized by
// WORK_MS) and then waits IO_MS, so load shows up both as busy event loop and as requests in flight.
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { instrument } from "@ballast/sdk";

const port = Number(process.env.PORT ?? 8080);
const workMs = Number(process.env.WORK_MS ?? 5);
const ioMs = Number(process.env.IO_MS ?? 50);

function burn(ms: number): string {
  const until = performance.now() + ms;
  let h = "hello";
  while (performance.now() < until) h = createHash("sha256").update(h).digest("hex");
  return h;
}

const server = createServer((req, res) => {
  if (req.url === "/healthz") {
    res.end("ok\n");
    return;
  }
  const digest = burn(workMs);
  setTimeout(() => {
    res.setHeader("content-type", "text/plain");
    res.end(`hello from ${process.pid} ${digest.slice(0, 8)}\n`);
  }, ioMs);
});

const ballast = instrument(server, { serviceName: "hello" });
server.listen(port, "127.0.0.1", () => {
  ballast.ready();
  console.log(`hello-service ${process.pid} listening on 127.0.0.1:${port}`);
});
