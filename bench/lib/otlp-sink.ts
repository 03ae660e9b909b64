import { createServer } from "node:http";

// An OTLP/HTTP collector that accepts every export and throws it away: the cheapest collector there is, so
// the tracing benchmark measures the service's side of tracing only. Counts the bytes it was sent
// (GET /received).
const port = Number(process.argv[2]);
let received = 0;
createServer((request, response) => {
  if (request.method === "GET") {
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ received }));
    return;
  }
  request.on("data", (chunk: Buffer) => {
    received += chunk.length;
  });
  request.on("end", () => response.writeHead(200, { "content-type": "application/x-protobuf" }).end());
}).listen(port, "127.0.0.1");
