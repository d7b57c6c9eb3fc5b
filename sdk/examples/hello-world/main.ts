// The smallest HTTP service, with or without @ballast/sdk (BALLAST_INSTRUMENT=1), for measuring what
// the SDK costs per request.
import { createServer } from "node:http";
import { instrument } from "@ballast/sdk";

const server = createServer((_req, res) => {
  res.end("hello world\n");
});
const ballast =
  process.env.BALLAST_INSTRUMENT === "1" ? instrument(server, { serviceName: "hello-world" }) : undefined;
server.listen(Number(process.env.PORT ?? 8080), "127.0.0.1", () => {
  ballast?.ready();
  process.stdout.write("listening\n");
});
