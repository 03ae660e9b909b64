import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { OrchestratorError } from "../../src/core/errors.ts";
import { AnthropicProvider } from "../../src/providers/anthropic/anthropic-provider.ts";
import type { ChatProvider, ChatRequest, ChatStreamEvent } from "../../src/providers/chat-provider.ts";
import { GeminiChatProvider } from "../../src/providers/google/gemini-chat-provider.ts";
import { OpenAiProvider } from "../../src/providers/openai/openai-provider.ts";
import { startFakeAnthropic } from "../fakes/fake-anthropic.ts";
import { startFakeGemini } from "../fakes/fake-gemini.ts";
import { startFakeOpenAi } from "../fakes/fake-openai.ts";
import type { FakeUpstream } from "../fakes/fake-upstream.ts";
import { startTestApp } from "../support/test-app.ts";

// Each provider type's wire mapping against a fake of its upstream's own API: requests as the API documents
// them, answers and streams read back, usage (cached tokens inside the prompt), and errors as typed errors.

const pixel = "data:image/png;base64,iVBORw0KGgo=";
const tool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

async function drain(stream: AsyncIterable<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const events: ChatStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

async function failure(run: () => Promise<unknown>): Promise<OrchestratorError> {
  try {
    await run();
  } catch (error) {
    return error as OrchestratorError;
  }
  assert.fail("expected the call to fail");
}

function doneOf(events: ChatStreamEvent[]) {
  const done = events.at(-1);
  assert.equal(done?.type, "done");
  return (done as Extract<ChatStreamEvent, { type: "done" }>).result;
}

const ask = (model: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model,
  messages: [
    { role: "system", content: "Be brief.", cacheControl: { type: "ephemeral" } },
    { role: "user", content: "Hello" },
  ],
  maxTokens: 64,
  ...extra,
});

describe("openai type: any OpenAI-compatible Chat Completions API", () => {
  let fake: FakeUpstream;
  let provider: ChatProvider;
  before(async () => {
    fake = await startFakeOpenAi();
    provider = new OpenAiProvider({
      name: "openai",
      baseUrl: fake.baseUrl,
      apiKey: fake.apiKey,
      defaultTimeoutMs: 5000,
    });
  });
  after(() => fake.close());

  it("sends the request as OpenAI documents it and reads usage with cached tokens inside the prompt", async () => {
    fake.clear();
    fake.enqueue({
      kind: "text",
      content: "Hi there",
      promptTokens: 1200,
      completionTokens: 7,
      cacheReadTokens: 1024,
    });
    const result = await provider.complete(
      ask("gpt-5.6-terra", {
        reasoning: { effort: "low" },
        temperature: 0,
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is this?" },
              { type: "image", url: pixel },
            ],
          },
        ],
      }),
    );
    assert.equal(result.content, "Hi there");
    assert.deepEqual(result.usage, { promptTokens: 1200, completionTokens: 7, cacheReadTokens: 1024 });
    const sent = fake.requests[0];
    assert.equal(sent?.path, "/v1/chat/completions");
    assert.equal(sent?.headers.authorization, `Bearer ${fake.apiKey}`);
    assert.equal(sent?.body.reasoning_effort, "low");
    // A reasoning model takes only the default temperature.
    assert.equal(sent?.body.temperature, undefined);
    // Not api.openai.com: a compatible server's documented max_tokens.
    assert.equal(sent?.body.max_tokens, 64);
    assert.deepEqual(sent?.body.messages[0].content[1], { type: "image_url", image_url: { url: pixel } });
  });

  it("streams text and tool calls, with usage from the last chunk", async () => {
    fake.clear();
    fake.enqueue({
      kind: "text",
      content: "Let me check.",
      toolCalls: [{ id: "call_1", name: "get_weather", arguments: '{"city":"Oslo"}' }],
      promptTokens: 50,
      completionTokens: 12,
    });
    const events = await drain(provider.stream(ask("gpt-5.6-luna", { tools: [tool], toolChoice: "auto" })));
    const result = doneOf(events);
    assert.equal(result.content, "Let me check.");
    assert.equal(result.finishReason, "tool_calls");
    assert.deepEqual(result.toolCalls, [
      { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
    ]);
    assert.deepEqual(result.usage, { promptTokens: 50, completionTokens: 12 });
    assert.deepEqual(fake.requests[0]?.body.stream_options, { include_usage: true });
    assert.deepEqual(fake.requests[0]?.body.tools, [tool]);
  });

  it("maps errors to the typed upstream errors, and refuses OpenRouter's routing parameters unsent", async () => {
    fake.clear();
    fake.enqueue({ kind: "error", status: 429, message: "Rate limit reached", retryAfterSeconds: 2 });
    const limited = await failure(() => provider.complete(ask("gpt-5.6-luna")));
    assert.equal(limited.code, "upstream_rate_limited");
    assert.equal(limited.retryAfterMs, 2000);
    fake.enqueue({ kind: "error", status: 401, message: "Incorrect API key provided" });
    assert.equal((await failure(() => provider.complete(ask("gpt-5.6-luna")))).code, "upstream_auth_failed");
    fake.enqueue({ kind: "midstream-error", contentBefore: "Partial", message: "server had an error" });
    assert.equal(
      (await failure(() => drain(provider.stream(ask("gpt-5.6-luna"))))).code,
      "upstream_stream_error",
    );
    fake.enqueue({ kind: "truncated", contentBefore: "Cut" });
    assert.equal(
      (await failure(() => drain(provider.stream(ask("gpt-5.6-luna"))))).code,
      "upstream_truncated",
    );
    const sent = fake.requests.length;
    const refused = await failure(() =>
      provider.complete(ask("gpt-5.6-luna", { upstreamParams: { provider: { order: ["x"] } } })),
    );
    assert.equal(refused.code, "unsupported_parameter");
    assert.equal(refused.status, 400);
    assert.match(refused.message, /'provider'/);
    assert.equal(fake.requests.length, sent);
  });

  it("a local server configured without apiKeyEnv gets no authorization header, through the whole service", async () => {
    const local = await startFakeOpenAi();
    local.enqueue(
      { kind: "text", content: "M", promptTokens: 40, completionTokens: 1 },
      {
        kind: "text",
        content: "local answer",
        promptTokens: 300,
        completionTokens: 10,
        cacheReadTokens: 256,
      },
    );
    const t = await startTestApp({
      mode: "offline",
      config: {
        routing: { warmup: { enabled: false } },
        providers: { local: { type: "openai", baseUrl: local.baseUrl } },
        models: {
          categorizer_ai: {
            provider: "local",
            model: "llama3.2:3b",
            pricing: { inputPerMillion: 0, outputPerMillion: 0 },
          },
          medium_ai: {
            provider: "local",
            model: "qwen3:14b",
            pricing: { inputPerMillion: 1, outputPerMillion: 2 },
          },
        },
      },
    });
    try {
      const res = await t.post("/chat", { message: "What are the benefits of renewable energy?" });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.response, "local answer");
      assert.equal(res.body.provider, "local");
      // The 256 cached tokens are part of the 300 prompt tokens, priced at the default read price (half the
      // role's input price, as the role gives none of its own); the other 44 at the input price.
      assert.equal(res.body.usage.cache_read_tokens, 256);
      assert.ok(Math.abs(res.body.usage.cost_usd - (44 * 1 + 256 * 0.5 + 10 * 2) / 1e6) < 1e-12);
      assert.equal(local.requests.length, 2);
      for (const request of local.requests) assert.equal(request.headers.authorization, undefined);
    } finally {
      await t.close();
      await local.close();
    }
  });
});

describe("anthropic type: Anthropic's Messages API", () => {
  let fake: FakeUpstream;
  let provider: ChatProvider;
  before(async () => {
    fake = await startFakeAnthropic();
    provider = new AnthropicProvider({
      name: "anthropic",
      baseUrl: fake.baseUrl,
      apiKey: fake.apiKey,
      defaultTimeoutMs: 5000,
    });
  });
  after(() => fake.close());

  it("puts the system prompt on top with its cache breakpoint, requires max_tokens, and counts cache reads and writes in the prompt", async () => {
    fake.clear();
    fake.enqueue({
      kind: "text",
      content: "Hello!",
      promptTokens: 5000,
      completionTokens: 9,
      cacheReadTokens: 4000,
      cacheWriteTokens: 900,
    });
    const result = await provider.complete(
      ask("claude-haiku-5-5", {
        messages: [
          { role: "system", content: "Be brief.", cacheControl: { type: "ephemeral", ttl: "1h" } },
          {
            role: "user",
            content: [
              { type: "text", text: "A long document", cacheControl: { type: "ephemeral" } },
              { type: "image", url: pixel },
              { type: "image", url: "https://example.com/cat.jpg" },
            ],
          },
        ],
      }),
    );
    assert.equal(result.content, "Hello!");
    assert.equal(result.finishReason, "stop");
    assert.deepEqual(result.usage, {
      promptTokens: 5000,
      completionTokens: 9,
      cacheReadTokens: 4000,
      cacheWriteTokens: 900,
    });
    const sent = fake.requests[0];
    assert.equal(sent?.path, "/v1/messages");
    assert.equal(sent?.headers["x-api-key"], fake.apiKey);
    assert.equal(sent?.headers["anthropic-version"], "2023-06-01");
    assert.equal(sent?.headers.authorization, undefined);
    assert.equal(sent?.body.max_tokens, 64);
    assert.deepEqual(sent?.body.system, [
      { type: "text", text: "Be brief.", cache_control: { type: "ephemeral", ttl: "1h" } },
    ]);
    assert.deepEqual(sent?.body.messages, [
      {
        role: "user",
        content: [
          { type: "text", text: "A long document", cache_control: { type: "ephemeral" } },
          { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
          { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
        ],
      },
    ]);
  });

  it("sends tools and a tool round trip in Anthropic's shapes, and reads tool_use blocks back", async () => {
    fake.clear();
    fake.enqueue({
      kind: "text",
      content: "",
      toolCalls: [{ id: "toolu_2", name: "get_weather", arguments: '{"city":"Rome"}' }],
    });
    const result = await provider.complete(
      ask("claude-sonnet-5-5", {
        tools: [tool],
        toolChoice: "required",
        messages: [
          { role: "user", content: "Weather in Oslo and Rome?" },
          {
            role: "assistant",
            content: "",
            toolCalls: [
              {
                id: "toolu_1",
                type: "function",
                function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
              },
            ],
          },
          { role: "tool", toolCallId: "toolu_1", content: "4°C, rain" },
        ],
      }),
    );
    assert.equal(result.finishReason, "tool_calls");
    assert.deepEqual(result.toolCalls, [
      { id: "toolu_2", type: "function", function: { name: "get_weather", arguments: '{"city":"Rome"}' } },
    ]);
    const body = fake.requests[0]?.body;
    assert.deepEqual(body.tools, [
      { name: "get_weather", description: "Weather for a city", input_schema: tool.function.parameters },
    ]);
    assert.deepEqual(body.tool_choice, { type: "any" });
    assert.deepEqual(body.messages.slice(1), [
      {
        role: "assistant",
        content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Oslo" } }],
      },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "4°C, rain" }] },
    ]);
  });

  it("reads the stream's events: text and input_json deltas, ping, message_delta usage, message_stop", async () => {
    fake.clear();
    fake.enqueue({
      kind: "text",
      content: "Checking the weather now.",
      toolCalls: [{ id: "toolu_9", name: "get_weather", arguments: '{"city":"Lima"}' }],
      promptTokens: 80,
      completionTokens: 30,
      cacheReadTokens: 64,
    });
    const events = await drain(provider.stream(ask("claude-haiku-5-5", { tools: [tool] })));
    const result = doneOf(events);
    assert.equal(result.content, "Checking the weather now.");
    assert.deepEqual(result.toolCalls, [
      { id: "toolu_9", type: "function", function: { name: "get_weather", arguments: '{"city":"Lima"}' } },
    ]);
    assert.deepEqual(result.usage, { promptTokens: 80, completionTokens: 30, cacheReadTokens: 64 });
    assert.ok(events.some((e) => e.type === "tool_call_delta"));
    assert.equal(fake.requests[0]?.body.stream, true);
  });

  it("maps errors: 529 overloaded and 429 retryable, 401 auth, an error event mid-stream, a stream without message_stop, and refuses what the API lacks", async () => {
    fake.clear();
    fake.enqueue({ kind: "error", status: 529, message: "Overloaded" });
    const overloaded = await failure(() => provider.complete(ask("claude-haiku-5-5")));
    assert.equal(overloaded.code, "upstream_error");
    assert.equal(overloaded.retryable, true);
    fake.enqueue({ kind: "error", status: 429, message: "rate limited", retryAfterSeconds: 1 });
    assert.equal(
      (await failure(() => provider.complete(ask("claude-haiku-5-5")))).code,
      "upstream_rate_limited",
    );
    fake.enqueue({ kind: "error", status: 401, message: "invalid x-api-key" });
    assert.equal(
      (await failure(() => provider.complete(ask("claude-haiku-5-5")))).code,
      "upstream_auth_failed",
    );
    fake.enqueue({ kind: "midstream-error", contentBefore: "Part", message: "Overloaded" });
    const mid = await failure(() => drain(provider.stream(ask("claude-haiku-5-5"))));
    assert.equal(mid.code, "upstream_stream_error");
    assert.equal(mid.upstreamStatus, 529);
    fake.enqueue({ kind: "truncated", contentBefore: "Cut" });
    assert.equal(
      (await failure(() => drain(provider.stream(ask("claude-haiku-5-5"))))).code,
      "upstream_truncated",
    );
    const sent = fake.requests.length;
    const refused = await failure(() =>
      provider.complete(ask("claude-haiku-5-5", { upstreamParams: { seed: 7, logit_bias: {} } })),
    );
    assert.equal(refused.status, 400);
    assert.match(refused.message, /'seed', 'logit_bias'/);
    assert.equal(fake.requests.length, sent);
  });
});

describe("google type: the Gemini API's generateContent", () => {
  let fake: FakeUpstream;
  let provider: ChatProvider;
  before(async () => {
    fake = await startFakeGemini();
    provider = new GeminiChatProvider({
      name: "google_ai",
      baseUrl: fake.baseUrl,
      apiKey: fake.apiKey,
      defaultTimeoutMs: 5000,
    });
  });
  after(() => fake.close());

  it("sends systemInstruction, contents and generationConfig, the key in a header, and reads cached tokens", async () => {
    fake.clear();
    fake.enqueue({
      kind: "text",
      content: "Ciao",
      promptTokens: 2048,
      completionTokens: 3,
      cacheReadTokens: 1024,
    });
    const result = await provider.complete(
      ask("gemini-3.8-flash", {
        responseFormat: { type: "json_object" },
        messages: [
          { role: "system", content: "Be brief." },
          {
            role: "user",
            content: [
              { type: "text", text: "Describe" },
              { type: "image", url: pixel },
            ],
          },
        ],
      }),
    );
    assert.equal(result.content, "Ciao");
    assert.deepEqual(result.usage, { promptTokens: 2048, completionTokens: 3, cacheReadTokens: 1024 });
    const sent = fake.requests[0];
    assert.equal(sent?.path, "/v1beta/models/gemini-3.8-flash:generateContent");
    assert.equal(sent?.headers["x-goog-api-key"], fake.apiKey);
    assert.deepEqual(sent?.body.systemInstruction, { parts: [{ text: "Be brief." }] });
    assert.deepEqual(sent?.body.contents, [
      {
        role: "user",
        parts: [{ text: "Describe" }, { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } }],
      },
    ]);
    assert.deepEqual(sent?.body.generationConfig, {
      maxOutputTokens: 64,
      responseMimeType: "application/json",
    });
  });

  it("streams over alt=sse, and carries a function call's thought signature back on the next turn", async () => {
    fake.clear();
    fake.enqueue({
      kind: "text",
      content: "",
      toolCalls: [{ id: "c1", name: "get_weather", arguments: '{"city":"Kyoto"}' }],
      promptTokens: 30,
      completionTokens: 8,
    });
    const events = await drain(provider.stream(ask("gemini-3.8-flash", { tools: [tool] })));
    const result = doneOf(events);
    assert.equal(fake.requests[0]?.path, "/v1beta/models/gemini-3.8-flash:streamGenerateContent?alt=sse");
    assert.deepEqual(fake.requests[0]?.body.tools, [
      {
        functionDeclarations: [
          {
            name: "get_weather",
            description: "Weather for a city",
            parametersJsonSchema: tool.function.parameters,
          },
        ],
      },
    ]);
    assert.equal(result.finishReason, "tool_calls");
    const call = result.toolCalls?.[0];
    assert.equal(call?.function.name, "get_weather");
    assert.equal(call?.function.arguments, '{"city":"Kyoto"}');
    fake.enqueue({ kind: "text", content: "Sunny in Kyoto." });
    const next = await provider.complete(
      ask("gemini-3.8-flash", {
        messages: [
          { role: "user", content: "Weather in Kyoto?" },
          { role: "assistant", content: "", toolCalls: result.toolCalls ?? [] },
          { role: "tool", toolCallId: call?.id ?? "", content: '{"sky":"clear"}' },
        ],
      }),
    );
    assert.equal(next.content, "Sunny in Kyoto.");
    assert.deepEqual(fake.requests[1]?.body.contents.slice(1), [
      {
        role: "model",
        parts: [
          { functionCall: { name: "get_weather", args: { city: "Kyoto" } }, thoughtSignature: "c2lnLSR7c1" },
        ],
      },
      { role: "user", parts: [{ functionResponse: { name: "get_weather", response: { sky: "clear" } } }] },
    ]);
  });

  it("maps errors: 429 rate limit, 403 auth, an error mid-stream, a stream without a finishReason", async () => {
    fake.clear();
    fake.enqueue({ kind: "error", status: 429, message: "Resource has been exhausted" });
    assert.equal(
      (await failure(() => provider.complete(ask("gemini-3.8-flash")))).code,
      "upstream_rate_limited",
    );
    fake.enqueue({ kind: "error", status: 403, message: "API key not valid" });
    assert.equal(
      (await failure(() => provider.complete(ask("gemini-3.8-flash")))).code,
      "upstream_auth_failed",
    );
    fake.enqueue({ kind: "midstream-error", contentBefore: "Half", message: "The model is overloaded" });
    assert.equal(
      (await failure(() => drain(provider.stream(ask("gemini-3.8-flash"))))).code,
      "upstream_stream_error",
    );
    fake.enqueue({ kind: "truncated", contentBefore: "Cut" });
    assert.equal(
      (await failure(() => drain(provider.stream(ask("gemini-3.8-flash"))))).code,
      "upstream_truncated",
    );
  });
});
