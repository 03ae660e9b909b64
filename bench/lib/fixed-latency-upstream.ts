import { createServer } from "node:http";

// A minimal OpenAI-compatible upstream that answers every chat completion after a fixed delay. It records
// nothing and does as little as possible, so that it is never the bottleneck being measured.
const port = Number(process.argv[2] ?? 0);
const latencyMs = Number(process.argv[3] ?? 20);

const answer = (model: string) =>
  JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion",
    created: 1_790_000_000,
    model,
    choices: [
      { index: 0, message: { role: "assistant", content: "M" }, finish_reason: "stop", logprobs: null },
    ],
    usage: { prompt_tokens: 120, completion_tokens: 40, total_tokens: 160, cost: 0.00002 },
  });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    let model = "bench/model";
    try {
      model = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { model?: string }).model ?? model;
    } catch {
      // Any body gets an answer; the benchmark only measures time.
    }
    setTimeout(() => {
      const body = answer(model);
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
    }, latencyMs);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`${typeof address === "object" && address ? address.port : port}\n`);
});
