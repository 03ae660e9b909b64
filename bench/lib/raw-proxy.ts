import { createServer, type IncomingMessage } from "node:http";
import { Pool } from "undici";

// The reference every gateway figure is a ratio against: the least a Node.js proxy can do, a bare node:http
// server passing each request to the upstream through one shared undici Pool and the answer back. It adds
// no routing, ledger, metrics or logs. POST /two-round-trips makes two such calls one after the other (the
// reference for /chat, which calls the categorizer and then the answering model).
const port = Number(process.argv[2] ?? 0);
const upstream = new URL(process.argv[3] ?? "http://127.0.0.1:8080");
const pool = new Pool(upstream.origin, { connections: 256, pipelining: 1, keepAliveTimeout: 60_000 });

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function roundTrip(body: Buffer) {
  const response = await pool.request({
    method: "POST",
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json", authorization: "Bearer sk-bench" },
    body,
  });
  return { status: response.statusCode, body: Buffer.from(await response.body.arrayBuffer()) };
}

const server = createServer((req, res) => {
  const twice = req.url === "/two-round-trips";
  readBody(req)
    .then(async (body) => {
      let answer = await roundTrip(body);
      if (twice) answer = await roundTrip(body);
      res.writeHead(answer.status, {
        "content-type": "application/json",
        "content-length": answer.body.length,
      });
      res.end(answer.body);
    })
    .catch((error: unknown) => {
      res.writeHead(502, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: String(error) }));
    });
});
server.keepAliveTimeout = 60_000;
server.listen(port, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`${typeof address === "object" && address ? address.port : port}\n`);
});
