import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type FakeOpenRouter, type RecordedRequest, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { models, requestsTo } from "../support/responders.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

// Prompt caching end to end: breakpoints from each API reach OpenRouter's body, and the cached and
// cache-write counts OpenRouter reports come back on each API, priced at the listed cache prices, in the
// ledger, /stats and /metrics. The medium model is listed at $0.10 in, $0.32 out, cache reads $0.01
// and cache writes $0.125 per million tokens.
const usage = { promptTokens: 1000, cachedTokens: 600, cacheWriteTokens: 300, completionTokens: 100 };
// 100 uncached × 0.1 + 600 × 0.01 + 300 × 0.125 + 100 × 0.32, per million.
const expectedCost = (100 * 0.1 + 600 * 0.01 + 300 * 0.125 + 100 * 0.32) / 1e6;
// 600 × (0.1 − 0.01) − 300 × (0.125 − 0.1), per million.
const expectedSaving = (600 * (0.1 - 0.01) - 300 * (0.125 - 0.1)) / 1e6;

function close(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) < 1e-12;
}

async function sse(url: string, body: unknown): Promise<string[]> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200);
  return (await response.text()).split("\n\n").filter((block) => block.trim() !== "");
}

function dataOf(block: string): any {
  const line = block.split("\n").find((l) => l.startsWith("data: "));
  const data = line?.slice("data: ".length);
  return data && data !== "[DONE]" ? JSON.parse(data) : undefined;
}

describe("prompt caching", () => {
  let fake: FakeOpenRouter;
  let t: TestApp;

  before(async () => {
    fake = await startFakeOpenRouter();
    const medium = fake.models.find((m) => m.id === models.medium);
    assert.ok(medium, "the medium model is listed");
    medium.pricing = { ...medium.pricing, input_cache_read: "0.00000001", input_cache_write: "0.000000125" };
    t = await startTestApp({ fake });
  });
  after(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => {
    fake.clear();
    fake.respondWith((request: RecordedRequest) =>
      request.body.model === models.categorizer
        ? { kind: "text", content: "M", promptTokens: 50, completionTokens: 1, cost: null }
        : { kind: "text", content: "A cached answer.", ...usage, cost: null },
    );
  });

  const sentToMedium = () => requestsTo(fake.requests, models.medium);

  it("/v1/chat/completions passes a content part's cache_control on and shows cached_tokens, priced at the cache prices", async () => {
    const res = await t.post("/v1/chat/completions", {
      model: "medium_ai",
      messages: [
        { role: "system", content: [{ type: "text", text: "A long, stable preamble." }] },
        {
          role: "user",
          content: [
            { type: "text", text: "The book:", cache_control: { type: "ephemeral", ttl: "1h" } },
            { type: "text", text: "What happens in it?" },
          ],
        },
      ],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const [sent] = sentToMedium();
    assert.deepEqual(sent?.body.messages[1]?.content, [
      { type: "text", text: "The book:", cache_control: { type: "ephemeral", ttl: "1h" } },
      { type: "text", text: "What happens in it?" },
    ]);
    assert.equal(
      sent?.body.messages[0]?.content,
      "A long, stable preamble.",
      "no breakpoint: sent as before",
    );
    assert.deepEqual(res.body.usage, {
      prompt_tokens: 1000,
      completion_tokens: 100,
      total_tokens: 1100,
      prompt_tokens_details: { cached_tokens: 600 },
    });
    assert.ok(close(res.body.orchestrator.cost_usd, expectedCost), String(res.body.orchestrator.cost_usd));
  });

  it("/v1/chat/completions streamed: the final usage chunk carries cached_tokens", async () => {
    const blocks = await sse(`${t.url}/v1/chat/completions`, {
      model: "medium_ai",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "Hello" }],
    });
    const usageChunk = blocks.map(dataOf).findLast((chunk) => chunk?.usage);
    assert.deepEqual(usageChunk.usage.prompt_tokens_details, { cached_tokens: 600 });
    assert.equal(usageChunk.usage.prompt_tokens, 1000);
  });

  it("/v1/messages passes system, content and automatic breakpoints on, and reports Anthropic's cache fields", async () => {
    const res = await t.post("/v1/messages", {
      model: "medium_ai",
      max_tokens: 50,
      system: [
        { type: "text", text: "You are terse." },
        { type: "text", text: "A long style guide.", cache_control: { type: "ephemeral" } },
      ],
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "A long document.", cache_control: { type: "ephemeral", ttl: "1h" } },
            { type: "text", text: "Summarise it." },
          ],
        },
        { role: "assistant", content: "It is about caching." },
        { role: "user", content: "And then?" },
      ],
      cache_control: { type: "ephemeral" },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const [sent] = sentToMedium();
    const messages = sent?.body.messages as Array<{ role: string; content: unknown }>;
    assert.deepEqual(messages[0], {
      role: "system",
      content: [
        { type: "text", text: "You are terse." },
        { type: "text", text: "A long style guide.", cache_control: { type: "ephemeral" } },
      ],
    });
    assert.deepEqual(messages[1]?.content, [
      { type: "text", text: "A long document.", cache_control: { type: "ephemeral", ttl: "1h" } },
      { type: "text", text: "Summarise it." },
    ]);
    assert.equal(messages[2]?.content, "It is about caching.");
    // The request's own cache_control is a breakpoint after the last message: medium_ai's model caches a
    // repeated prefix on its own, so it gets the plain message (an anthropic/ model gets it marked: openrouter-wire.test.ts).
    assert.equal(messages[3]?.content, "And then?");
    // Anthropic's input_tokens leaves the cache reads and writes out.
    assert.deepEqual(res.body.usage, {
      input_tokens: 100,
      output_tokens: 100,
      cache_creation_input_tokens: 300,
      cache_read_input_tokens: 600,
    });
  });

  it("/v1/messages streamed: message_delta carries the cache fields", async () => {
    const blocks = await sse(`${t.url}/v1/messages`, {
      model: "medium_ai",
      max_tokens: 50,
      stream: true,
      messages: [
        { role: "user", content: [{ type: "text", text: "Hi", cache_control: { type: "ephemeral" } }] },
      ],
    });
    const delta = blocks.find((b) => b.startsWith("event: message_delta"));
    assert.ok(delta, blocks.join("\n\n"));
    assert.deepEqual(dataOf(delta).usage, {
      input_tokens: 100,
      output_tokens: 100,
      cache_creation_input_tokens: 300,
      cache_read_input_tokens: 600,
    });
    const [sent] = sentToMedium();
    assert.deepEqual(sent?.body.messages[0]?.content, [
      { type: "text", text: "Hi", cache_control: { type: "ephemeral" } },
    ]);
  });

  it("refuses a cache_control that is not ephemeral or has an unknown ttl, sending nothing upstream", async () => {
    const completions = await t.post("/v1/chat/completions", {
      model: "medium_ai",
      messages: [
        { role: "user", content: [{ type: "text", text: "x", cache_control: { type: "forever" } }] },
      ],
    });
    assert.equal(completions.status, 400);
    assert.equal(completions.body.error.param, "messages[0].content");
    const messages = await t.post("/v1/messages", {
      model: "medium_ai",
      max_tokens: 10,
      messages: [
        {
          role: "user",
          content: [{ type: "text", text: "x", cache_control: { type: "ephemeral", ttl: "2h" } }],
        },
      ],
    });
    assert.equal(messages.status, 400);
    assert.match(messages.body.error.message, /^messages\[0\]\.content: /);
    const system = await t.post("/v1/messages", {
      model: "medium_ai",
      max_tokens: 10,
      system: [{ type: "text", text: "s", cache_control: { type: "persistent" } }],
      messages: [{ role: "user", content: "x" }],
    });
    assert.equal(system.status, 400);
    assert.match(system.body.error.message, /^system: .*cache_control must be of type ephemeral/);
    assert.equal(fake.requests.length, 0, "nothing went upstream");
  });

  it("/v1/responses shows input_tokens_details.cached_tokens, streamed and not", async () => {
    const res = await t.post("/v1/responses", { model: "medium_ai", input: "Hello" });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.usage.input_tokens_details, { cached_tokens: 600 });
    assert.equal(res.body.usage.input_tokens, 1000);
    const blocks = await sse(`${t.url}/v1/responses`, { model: "medium_ai", input: "Hello", stream: true });
    const completed = blocks.find((b) => b.startsWith("event: response.completed"));
    assert.ok(completed, blocks.join("\n\n"));
    assert.deepEqual(dataOf(completed).response.usage.input_tokens_details, { cached_tokens: 600 });
  });

  it("/chat shows the cache counts; /stats the cached share and the saving; /metrics the counters", async () => {
    const res = await t.post("/chat", { message: "Tell me about caching." });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.model, models.medium);
    assert.equal(res.body.usage.cache_read_tokens, 600);
    assert.equal(res.body.usage.cache_write_tokens, 300);

    // The request explained lists each call's counts and the request's totals.
    const record = await t.get(`/requests/${res.headers.get("x-request-id")}`);
    assert.equal(record.status, 200, JSON.stringify(record.body));
    const answer = record.body.calls.find((c: { purpose: string }) => c.purpose === "answer");
    assert.deepEqual([answer?.cache_read_tokens, answer?.cache_write_tokens], [600, 300]);
    assert.deepEqual(
      [record.body.totals.cache_read_tokens, record.body.totals.cache_write_tokens],
      [600, 300],
    );

    const stats = await t.get("/stats?since=all");
    assert.equal(stats.status, 200, JSON.stringify(stats.body));
    const cache = stats.body.prompt_cache;
    // Every test of this block so far: five medium answers and one categorizer call (no cache).
    const mediumCalls = cache.cache_read_tokens / 600;
    assert.ok(Number.isInteger(mediumCalls) && mediumCalls >= 1, JSON.stringify(cache));
    assert.equal(cache.cache_write_tokens, mediumCalls * 300);
    assert.equal(cache.cached_share, Math.round((cache.cache_read_tokens / cache.input_tokens) * 1e4) / 1e4);
    assert.ok(close(cache.saved_usd, mediumCalls * expectedSaving), JSON.stringify(cache));
    const medium = stats.body.models.find((m: { model: string }) => m.model === models.medium);
    assert.equal(medium.cache_read_tokens, cache.cache_read_tokens);

    const metrics = await fetch(`${t.url}/metrics`).then((r) => r.text());
    const read = new RegExp(
      `orchestrator_upstream_tokens_total\\{[^}]*model="${models.medium}"[^}]*direction="cache_read"[^}]*\\} ${mediumCalls * 600}\\b`,
    );
    assert.match(metrics, read);
    assert.match(metrics, /direction="cache_write"/);
    const saved = /orchestrator_prompt_cache_saved_usd_total\{[^}]*\} ([\d.e-]+)/.exec(metrics);
    assert.ok(saved && close(Number(saved[1]), mediumCalls * expectedSaving), saved?.[0]);
  });
});
