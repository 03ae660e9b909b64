import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { defaultModels, fallbackPrices } from "../../src/config/defaults/models.ts";
import { fakePng } from "./fake-google-ai.ts";
import { readBody, sendJson } from "./http-helpers.ts";

// A protocol-faithful stand-in for OpenRouter's chat-completions API: a real HTTP server on 127.0.0.1
// that answers in the wire format (JSON and server-sent events, usage with cost, OpenRouter's error bodies),
// records every request, and injects faults on demand.

export interface ChatCompletionBody {
  model: string;
  messages: Array<{ role: string; content: unknown }>;
  stream?: boolean;
  [key: string]: unknown;
}

export interface RecordedRequest {
  readonly receivedAt: number;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: ChatCompletionBody;
}

export type FakeReply =
  | {
      kind: "text";
      content: string;
      model?: string;
      promptTokens?: number;
      completionTokens?: number;
      // null: the usage carries no cost, so the service has to price the call itself.
      cost?: number | null;
      delayMs?: number;
      chunkDelayMs?: number;
      chunkSize?: number;
      finishReason?: string;
      toolCalls?: Array<{ id: string; name: string; arguments: string }>;
      // A thinking model's reasoning: its tokens are part of completion_tokens and reported in
      // usage.completion_tokens_details.reasoning_tokens; its text comes back in message.reasoning unless
      // excluded (https://openrouter.ai/docs/use-cases/reasoning-tokens).
      reasoningTokens?: number;
      reasoning?: string;
      // With output modalities ["image", "text"] an image model answers with message.images, base64 data
      // URLs (https://openrouter.ai/docs/features/multimodal/image-generation); false: words only.
      images?: boolean;
      // The choice's log probabilities, as OpenAI's format has them, when the request asked for them.
      logprobs?: unknown;
      // Prompt caching: of the prompt tokens, those read from and written to the provider's cache, in
      // usage.prompt_tokens_details.cached_tokens and cache_write_tokens, counted inside prompt_tokens
      // (https://openrouter.ai/docs/use-cases/usage-accounting,
      // https://openrouter.ai/docs/features/prompt-caching); in the non-streamed answer and in the stream's
      // final usage chunk alike.
      cachedTokens?: number;
      cacheWriteTokens?: number;
    }
  | {
      kind: "error";
      status: number;
      message: string;
      retryAfterSeconds?: number;
      delayMs?: number;
      metadata?: Record<string, unknown>;
    }
  | { kind: "midstream-error"; contentBefore: string; message: string; code?: number }
  // HTTP 200 whose body is an error object and no choices: OpenRouter answers so when the provider fails
  // after the request was accepted (https://openrouter.ai/docs/api-reference/errors).
  | { kind: "error-in-200"; code: number; message: string }
  // A stream whose connection closes after some text, with neither a finish_reason nor [DONE]: a
  // close-delimited answer cut off (https://openrouter.ai/docs/api-reference/streaming).
  | { kind: "truncated"; contentBefore: string }
  | { kind: "reset" }
  | { kind: "hang" }
  | { kind: "malformed" };

export type FakeResponder = (request: RecordedRequest) => FakeReply | Promise<FakeReply>;

export interface FakeOpenRouter {
  readonly baseUrl: string;
  readonly requests: readonly RecordedRequest[];
  readonly apiKey: string;
  respondWith(responder: FakeResponder): void;
  enqueue(...replies: FakeReply[]): void;
  clear(): void;
  // What GET /models lists (https://openrouter.ai/docs/api-reference/list-available-models): by default every
  // model the built-in roles name, at the built-in prices; tests change prices, drop models or add an
  // expiration_date.
  models: WireModel[];
  // Set: GET /models fails with 503 and this message.
  modelsFailure: string | undefined;
  close(): Promise<void>;
}

// One entry as OpenRouter's models reference describes it (https://openrouter.ai/docs/models, "Models API
// Standard"): prices are strings of USD per token (per request or unit for `request`, `image`,
// `web_search`; also `internal_reasoning`, `input_cache_read`, `input_cache_write`), "0" meaning free.
// Only the fields the service reads are modelled; tests may set any string, as a hostile upstream could.
export interface WireModel {
  id: string;
  name: string;
  description?: string;
  context_length: number;
  // The longest answer the model's provider gives; absent, the list does not say.
  top_provider?: { max_completion_tokens: number | null };
  pricing: { prompt: string; completion: string; input_cache_read?: string; input_cache_write?: string };
  expiration_date: string | null;
  supported_parameters: string[];
  // What the model takes in and gives out ("text", "image", "file", "audio", …), as the list's architecture
  // object gives them (input_modalities, output_modalities).
  architecture?: { input_modalities: string[]; output_modalities: string[] };
}

export const echoResponder: FakeResponder = (request) => ({
  kind: "text",
  content: `echo: ${lastUserText(request.body)}`,
});

export async function startFakeOpenRouter(
  options: { responder?: FakeResponder; apiKey?: string } = {},
): Promise<FakeOpenRouter> {
  const apiKey = options.apiKey ?? "test-openrouter-key";
  let responder = options.responder ?? echoResponder;
  const queue: FakeReply[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      if (ms <= 0) return resolve();
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { code: 500, message: String(error) } });
      else res.destroy();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const raw = await readBody(req);
    if (req.method === "GET" && url.pathname === "/api/v1/models") {
      if (fake.modelsFailure)
        return sendJson(res, 503, { error: { code: 503, message: fake.modelsFailure } });
      return sendJson(res, 200, { data: fake.models });
    }
    if (req.method === "POST" && url.pathname === "/api/v1/embeddings") return embeddings(req, url, raw, res);
    if (req.method !== "POST" || url.pathname !== "/api/v1/chat/completions") {
      return sendJson(res, 404, { error: { code: 404, message: `no route ${req.method} ${url.pathname}` } });
    }
    let body: ChatCompletionBody;
    try {
      body = JSON.parse(raw) as ChatCompletionBody;
    } catch (error) {
      body = { model: "", messages: [] };
      record(req, url, body);
      return sendJson(res, 400, {
        error: { code: 400, message: `Invalid JSON: ${(error as Error).message}` },
      });
    }
    record(req, url, body);
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      return sendJson(res, 401, { error: { code: 401, message: "No auth credentials found" } });
    }
    if (
      typeof body.model !== "string" ||
      body.model === "" ||
      !Array.isArray(body.messages) ||
      body.messages.length === 0
    ) {
      return sendJson(res, 400, {
        error: { code: 400, message: "model and a non-empty messages array are required" },
      });
    }
    const reply = queue.shift() ?? (await responder(requests[requests.length - 1] as RecordedRequest));
    await answer(reply, body, req, res);
  }

  // OpenRouter's embeddings endpoint (https://openrouter.ai/docs/api-reference/embeddings), OpenAI's format:
  // a vector per input (its length `dimensions`, 8 by default, values from the text so equal texts match),
  // usage with cost. A queued error reply fails the call.
  function embeddings(req: IncomingMessage, url: URL, raw: string, res: ServerResponse): void {
    const body = JSON.parse(raw) as { model: string; input: string | string[]; dimensions?: number };
    record(req, url, { ...body, messages: [] });
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      sendJson(res, 401, { error: { code: 401, message: "No auth credentials found" } });
      return;
    }
    const queued = queue[0];
    if (queued?.kind === "error") {
      queue.shift();
      sendJson(res, queued.status, { error: { code: queued.status, message: queued.message } });
      return;
    }
    const inputs = typeof body.input === "string" ? [body.input] : body.input;
    const dimensions = body.dimensions ?? 8;
    const tokens = inputs.reduce((sum, text) => sum + Math.max(1, wordCount(text)), 0);
    sendJson(res, 200, {
      object: "list",
      model: body.model,
      provider: "FakeProvider",
      data: inputs.map((text, index) => ({
        object: "embedding",
        index,
        embedding: Array.from({ length: dimensions }, (_, i) => ((text.length + i) % 7) / 7),
      })),
      usage: { prompt_tokens: tokens, total_tokens: tokens, cost: tokens * 0.00000002 },
    });
  }

  function record(req: IncomingMessage, url: URL, body: ChatCompletionBody): void {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    requests.push({
      receivedAt: performance.now(),
      method: req.method ?? "",
      path: url.pathname,
      headers,
      body,
    });
  }

  async function answer(
    reply: FakeReply,
    body: ChatCompletionBody,
    req: IncomingMessage,
    res: ServerResponse,
  ) {
    switch (reply.kind) {
      case "reset":
        req.socket.destroy();
        return;
      case "hang":
        return;
      case "malformed":
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"id": "gen-broken", "choices": [');
        return;
      case "error": {
        await wait(reply.delayMs ?? 0);
        const headers: Record<string, string> = {};
        if (reply.retryAfterSeconds !== undefined) headers["retry-after"] = String(reply.retryAfterSeconds);
        return sendJson(
          res,
          reply.status,
          {
            error: {
              code: reply.status,
              message: reply.message,
              ...(reply.metadata ? { metadata: reply.metadata } : {}),
            },
          },
          headers,
        );
      }
      case "error-in-200":
        return sendJson(res, 200, {
          id: `gen-${randomUUID()}`,
          model: body.model,
          object: "chat.completion",
          created: nowSeconds(),
          error: { code: reply.code, message: reply.message, metadata: { provider_name: "FakeProvider" } },
        });
      case "truncated": {
        const id = `gen-${randomUUID()}`;
        startStream(res);
        for (const piece of split(reply.contentBefore, 8))
          writeEvent(res, chunk(id, body.model, { content: piece }, null));
        res.end();
        return;
      }
      case "midstream-error": {
        const id = `gen-${randomUUID()}`;
        startStream(res);
        for (const piece of split(reply.contentBefore, 8))
          writeEvent(res, chunk(id, body.model, { content: piece }, null));
        writeEvent(res, {
          id,
          object: "chat.completion.chunk",
          created: nowSeconds(),
          model: body.model,
          provider: "FakeProvider",
          error: { code: reply.code ?? 502, message: reply.message },
          choices: [
            { index: 0, delta: { content: "" }, finish_reason: "error", native_finish_reason: "error" },
          ],
        });
        res.end();
        return;
      }
      case "text":
        await wait(reply.delayMs ?? 0);
        return body.stream === true ? streamText(reply, body, res) : sendText(reply, body, res);
    }
  }

  async function streamText(
    reply: Extract<FakeReply, { kind: "text" }>,
    body: ChatCompletionBody,
    res: ServerResponse,
  ) {
    const id = `gen-${randomUUID()}`;
    const model = reply.model ?? body.model;
    startStream(res);
    let first = true;
    for (const piece of split(reply.content, reply.chunkSize ?? 8)) {
      if (!first) await wait(reply.chunkDelayMs ?? 0);
      if (res.destroyed) return;
      writeEvent(
        res,
        chunk(id, model, first ? { role: "assistant", content: piece } : { content: piece }, null),
      );
      first = false;
    }
    // Tool calls stream as OpenAI sends them: id and name first, then the arguments in pieces.
    for (const [index, call] of (reply.toolCalls ?? []).entries()) {
      const head = { index, id: call.id, type: "function", function: { name: call.name, arguments: "" } };
      writeEvent(res, chunk(id, model, { tool_calls: [head] }, null));
      for (const piece of split(call.arguments, reply.chunkSize ?? 8)) {
        writeEvent(res, chunk(id, model, { tool_calls: [{ index, function: { arguments: piece } }] }, null));
      }
    }
    writeEvent(res, chunk(id, model, { content: "" }, reply.finishReason ?? "stop"));
    writeEvent(res, {
      id,
      object: "chat.completion.chunk",
      created: nowSeconds(),
      model,
      provider: "FakeProvider",
      choices: [],
      usage: usageOf(reply, body),
    });
    res.write("data: [DONE]\n\n");
    res.end();
  }

  function sendText(
    reply: Extract<FakeReply, { kind: "text" }>,
    body: ChatCompletionBody,
    res: ServerResponse,
  ) {
    sendJson(res, 200, {
      id: `gen-${randomUUID()}`,
      provider: "FakeProvider",
      model: reply.model ?? body.model,
      object: "chat.completion",
      created: nowSeconds(),
      choices: [
        {
          index: 0,
          logprobs: body.logprobs === true ? (reply.logprobs ?? null) : null,
          finish_reason: reply.finishReason ?? "stop",
          native_finish_reason: "stop",
          message: {
            role: "assistant",
            content: reply.content,
            refusal: null,
            reasoning: reply.reasoning ?? null,
            ...(wantsImages(body) && reply.images !== false
              ? {
                  images: [
                    {
                      type: "image_url",
                      image_url: { url: `data:image/png;base64,${fakePng.toString("base64")}` },
                    },
                  ],
                }
              : {}),
            ...(reply.toolCalls ? { tool_calls: reply.toolCalls.map(wireToolCall) } : {}),
          },
        },
      ],
      usage: usageOf(reply, body),
    });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("fake OpenRouter has no TCP address");

  const fake: FakeOpenRouter = {
    baseUrl: `http://127.0.0.1:${address.port}/api/v1`,
    requests,
    apiKey,
    models: defaultModelList(),
    modelsFailure: undefined,
    respondWith(next) {
      responder = next;
    },
    enqueue(...replies) {
      queue.push(...replies);
    },
    clear() {
      requests.length = 0;
      queue.length = 0;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
  return fake;
}

function usageOf(reply: Extract<FakeReply, { kind: "text" }>, body: ChatCompletionBody) {
  const promptTokens =
    reply.promptTokens ?? Math.max(1, wordCount(body.messages.map((m) => textOf(m.content)).join(" ")));
  const completionTokens =
    reply.completionTokens ?? Math.max(1, wordCount(reply.content)) + (reply.reasoningTokens ?? 0);
  const cost =
    reply.cost === null
      ? undefined
      : (reply.cost ?? Math.round((promptTokens * 0.000001 + completionTokens * 0.000002) * 1e10) / 1e10);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    ...(cost === undefined ? {} : { cost }),
    is_byok: false,
    prompt_tokens_details: {
      cached_tokens: reply.cachedTokens ?? 0,
      ...(reply.cacheWriteTokens === undefined ? {} : { cache_write_tokens: reply.cacheWriteTokens }),
    },
    completion_tokens_details: { reasoning_tokens: reply.reasoningTokens ?? 0 },
  };
}

function wireToolCall(call: { id: string; name: string; arguments: string }) {
  return { id: call.id, type: "function", function: { name: call.name, arguments: call.arguments } };
}

function chunk(id: string, model: string, delta: Record<string, unknown>, finishReason: string | null) {
  return {
    id,
    object: "chat.completion.chunk",
    created: nowSeconds(),
    model,
    provider: "FakeProvider",
    choices: [
      { index: 0, delta, finish_reason: finishReason, native_finish_reason: finishReason, logprobs: null },
    ],
  };
}

function startStream(res: ServerResponse): void {
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
  res.write(": OPENROUTER PROCESSING\n\n");
}

function writeEvent(res: ServerResponse, data: unknown): void {
  res.write(`data: ${JSON.stringify(data)}\n\n`);
}

function split(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .filter(
      (part): part is { type: "text"; text: string } =>
        part?.type === "text" && typeof part.text === "string",
    )
    .map((part) => part.text)
    .join("\n");
}

function lastUserText(body: ChatCompletionBody): string {
  const last = [...body.messages].reverse().find((m) => m.role === "user");
  return last ? textOf(last.content) : "";
}

function wordCount(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

// Every OpenRouter model the built-in roles name, at the built-in prices (per token, as strings).
export function defaultModelList(): WireModel[] {
  const listed = new Map<string, WireModel>();
  const add = (id: string, inputPerMillion: number, outputPerMillion: number, contextLength = 131072) => {
    listed.set(id, {
      id,
      name: id,
      context_length: contextLength,
      pricing: { prompt: perToken(inputPerMillion), completion: perToken(outputPerMillion) },
      expiration_date: null,
      supported_parameters: [
        "temperature",
        "top_p",
        "max_tokens",
        "tools",
        "tool_choice",
        "response_format",
        "structured_outputs",
        "reasoning",
        "seed",
      ],
      architecture: {
        input_modalities: id.startsWith("google/gemini") ? ["text", "image", "file"] : ["text"],
        output_modalities: ["text"],
      },
    });
  };
  for (const role of Object.values(defaultModels)) {
    if (typeof role === "string" || role.provider !== "openrouter") continue;
    const pricing: { inputPerMillion: number; outputPerMillion: number } = role.pricing;
    const context = "contextWindow" in role ? role.contextWindow : undefined;
    add(role.model, pricing.inputPerMillion, pricing.outputPerMillion, context);
  }
  for (const [id, pricing] of Object.entries(fallbackPrices)) {
    if (!listed.has(id)) add(id, pricing.inputPerMillion, pricing.outputPerMillion);
  }
  return [...listed.values()];
}

// "0.000000684", as OpenRouter writes prices: USD per token in plain decimals.
function perToken(perMillion: number): string {
  return (perMillion / 1e6).toFixed(12).replace(/0+$/, "").replace(/\.$/, "");
}

function wantsImages(body: ChatCompletionBody): boolean {
  return Array.isArray(body.modalities) && body.modalities.includes("image");
}
