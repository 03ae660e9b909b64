import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

// An OpenAI-compatible upstream for the time-to-first-byte benchmark. Every chat call waits a fixed latency
// before its first byte, streamed or not; a streamed answer then sends the rest of its chunks over a short
// tail. It answers the categorizer with the label the benchmark wrote into the user's text ("[L]", "[M]",
// "[H]"), so the benchmark sets the traffic mix, and the planner with a small valid plan, so H requests run a
// real workflow. It reports usage without a cost, so the service prices each call at its catalog's prices.
// It counts, per model, the calls it answered and those whose client hung up first (an aborted call): the
// waste figure that does not depend on the service's own ledger. GET /bench/calls returns the counts.
interface Settings {
  readonly port: number;
  readonly latencyMs: number;
  // How long a streamed answer takes from its first chunk to its last.
  readonly streamTailMs: number;
  // Model ids the categorizer role calls (its model and fallbacks).
  readonly categorizerModels: readonly string[];
  // Tokens an answer (not a label or a plan) reports as generated.
  readonly answerTokens: number;
}

const settings = JSON.parse(process.argv[2] ?? "{}") as Settings;
const categorizerModels = new Set(settings.categorizerModels);
const tailChunks = 4;

export interface ModelCalls {
  received: number;
  answered: number;
  // The client closed the connection before the answer's last byte was written.
  aborted: number;
  // Of those, before the first byte: the call was never answered at all.
  abortedBeforeFirstByte: number;
  // The usage the answered calls reported, and the usage the aborted ones would have reported.
  promptTokens: number;
  completionTokens: number;
  abortedPromptTokens: number;
  abortedCompletionTokens: number;
}

const calls = new Map<string, ModelCalls>();
let inFlight = 0;

function countsOf(model: string): ModelCalls {
  let counts = calls.get(model);
  if (!counts) {
    counts = {
      received: 0,
      answered: 0,
      aborted: 0,
      abortedBeforeFirstByte: 0,
      promptTokens: 0,
      completionTokens: 0,
      abortedPromptTokens: 0,
      abortedCompletionTokens: 0,
    };
    calls.set(model, counts);
  }
  return counts;
}

interface ChatBody {
  readonly model?: string;
  readonly stream?: boolean;
  readonly messages?: ReadonlyArray<{ readonly role?: string; readonly content?: unknown }>;
}

const textOf = (content: unknown): string =>
  typeof content === "string"
    ? content
    : Array.isArray(content)
      ? content.map((part) => (typeof part?.text === "string" ? part.text : "")).join("")
      : "";

// The categorizer fences the request between <request-TOKEN> tags; the label is read from inside them, so
// a marker elsewhere in the prompt (the conversation so far) does not decide it.
function labelFor(userText: string): "L" | "M" | "H" {
  const sections = [...userText.matchAll(/<request-([0-9A-Za-z]+)>\n([\s\S]*?)\n<\/request-\1>/g)];
  const request = sections.at(-1)?.[2] ?? userText;
  const marker = /\[(L|M|H)\]/.exec(request);
  return (marker?.[1] as "L" | "M" | "H" | undefined) ?? "M";
}

// Two fast tasks at once: the smallest plan the planner's checks accept (2 tasks at least).
const plan = JSON.stringify({
  workflow: [
    {
      type: "linear",
      tasks: [
        { model: "fast_ai", prompt: "Outline part one of: {request}", output_variable: "part_one" },
        { model: "fast_ai", prompt: "Outline part two of: {request}", output_variable: "part_two" },
      ],
    },
  ],
});

const answerText =
  "Renewable energy cuts emissions and air pollution, lowers running costs once built, and makes a " +
  "country less dependent on imported fuel.";

function reply(body: ChatBody): { content: string; promptTokens: number; completionTokens: number } {
  const messages = body.messages ?? [];
  const promptChars = messages.reduce((sum, m) => sum + textOf(m.content).length, 0);
  const promptTokens = Math.max(1, Math.ceil(promptChars / 4));
  const system = textOf(messages.find((m) => m.role === "system")?.content);
  const lastUser = textOf(messages.findLast((m) => m.role === "user")?.content);
  if (categorizerModels.has(body.model ?? "")) {
    return { content: labelFor(lastUser), promptTokens, completionTokens: 1 };
  }
  if (system.startsWith("You are the planner")) {
    return { content: plan, promptTokens, completionTokens: Math.ceil(plan.length / 4) };
  }
  return { content: answerText, promptTokens, completionTokens: settings.answerTokens };
}

function chunk(model: string, delta: Record<string, unknown>, finishReason: string | null) {
  return {
    id: "gen-bench",
    object: "chat.completion.chunk",
    created: 1_790_000_000,
    model,
    choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
  };
}

const event = (data: unknown) => `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;

function answer(body: ChatBody, res: ServerResponse): void {
  const model = body.model ?? "bench/model";
  const counts = countsOf(model);
  counts.received++;
  inFlight++;
  const { content, promptTokens, completionTokens } = reply(body);
  const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens };
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };
  let firstByteSent = false;
  let settled = false;
  const settle = (aborted: boolean) => {
    if (settled) return;
    settled = true;
    inFlight--;
    for (const timer of timers) clearTimeout(timer);
    if (aborted) {
      counts.aborted++;
      if (!firstByteSent) counts.abortedBeforeFirstByte++;
      counts.abortedPromptTokens += promptTokens;
      counts.abortedCompletionTokens += completionTokens;
    } else {
      counts.answered++;
      counts.promptTokens += promptTokens;
      counts.completionTokens += completionTokens;
    }
  };
  res.on("close", () => settle(!res.writableFinished));

  later(settings.latencyMs, () => {
    firstByteSent = true;
    if (!body.stream) {
      const whole = JSON.stringify({
        id: "chatcmpl-bench",
        object: "chat.completion",
        created: 1_790_000_000,
        model,
        choices: [
          { index: 0, message: { role: "assistant", content }, finish_reason: "stop", logprobs: null },
        ],
        usage: { ...usage, total_tokens: promptTokens + completionTokens },
      });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(whole) });
      res.end(whole, () => settle(false));
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    // The text in 1 + tailChunks pieces: the first now, the rest spread over the tail.
    const size = Math.ceil(content.length / (1 + tailChunks));
    const pieces = Array.from({ length: 1 + tailChunks }, (_, i) => content.slice(i * size, (i + 1) * size));
    res.write(event(chunk(model, { role: "assistant", content: pieces[0] }, null)));
    pieces.slice(1).forEach((piece, i) => {
      later(((i + 1) * settings.streamTailMs) / tailChunks, () => {
        res.write(event(chunk(model, { content: piece }, null)));
        if (i < tailChunks - 1) return;
        res.write(event(chunk(model, {}, "stop")));
        res.write(event({ ...chunk(model, {}, null), choices: [], usage }));
        res.end(event("[DONE]"), () => settle(false));
      });
    });
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (piece: Buffer) => chunks.push(piece));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

const server = createServer(async (req, res) => {
  if (req.method === "GET" && req.url === "/bench/calls") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ inFlight, models: Object.fromEntries(calls) }));
    return;
  }
  if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
    // The model list among them: the service then keeps its built-in prices.
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { code: 404, message: "not served by the benchmark's upstream" } }));
    return;
  }
  let body: ChatBody = {};
  try {
    body = JSON.parse(await readBody(req)) as ChatBody;
  } catch {
    // Any body gets an answer; the benchmark measures time.
  }
  answer(body, res);
});
server.keepAliveTimeout = 60_000;
server.listen(settings.port, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`${typeof address === "object" && address ? address.port : settings.port}\n`);
});
