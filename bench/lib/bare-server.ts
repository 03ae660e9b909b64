import { createServer } from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";

// The reference for event-loop delay under a burst: a bare node:http server that reads each POST's body,
// parses it as JSON and answers 202, and does nothing else (no validation, store, runs or upstream calls).
// What it shows under the same burst is what accepting and answering that many requests costs Node.js on
// this machine before any work of the service's. GET /event-loop-delay gives p50, p99 and max in ms since the
// previous read, sampled every 10 ms like the service's own figure.
const port = Number(process.argv[2] ?? 0);
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();

const ms = (nanoseconds: number) => Math.round(nanoseconds / 1e5) / 10;

const server = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/event-loop-delay") {
    const body = JSON.stringify({
      p50: ms(delay.percentile(50)),
      p99: ms(delay.percentile(99)),
      max: ms(delay.max),
    });
    delay.reset();
    res.writeHead(200, { "content-type": "application/json" });
    res.end(body);
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    let status = 202;
    try {
      JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      status = 400;
    }
    res.writeHead(status, { "content-type": "application/json" });
    res.end('{"accepted":true}');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, "127.0.0.1");
