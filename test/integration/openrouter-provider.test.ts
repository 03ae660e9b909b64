import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { OrchestratorError } from "../../src/core/errors.ts";
import type { ChatStreamEvent } from "../../src/providers/chat-provider.ts";
import { OpenRouterProvider } from "../../src/providers/openrouter/openrouter-provider.ts";
import { echoResponder, type FakeOpenRouter, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";

describe("OpenRouterProvider on the wire", () => {
  let fake: FakeOpenRouter;
  let provider: OpenRouterProvider;

  before(async () => {
    fake = await startFakeOpenRouter();
    provider = new OpenRouterProvider({
      apiKey: fake.apiKey,
      baseUrl: fake.baseUrl,
      appName: "Test Orchestrator",
      appUrl: "https://example.test",
      defaultTimeoutMs: 2_000,
    });
  });
  after(() => fake.close());
  beforeEach(() => fake.clear());

  it("sends the request in chat-completions form and reads usage and cost", async () => {
    fake.enqueue({ kind: "text", content: "Hello!", promptTokens: 12, completionTokens: 3, cost: 0.00042 });
    const result = await provider.complete({
      model: "meta-llama/llama-3.3-70b-instruct",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi" },
      ],
      temperature: 0.2,
      maxTokens: 50,
    });
    assert.deepEqual(result, {
      content: "Hello!",
      model: "meta-llama/llama-3.3-70b-instruct",
      finishReason: "stop",
      usage: { promptTokens: 12, completionTokens: 3, reportedCostUsd: 0.00042 },
    });
    const sent = fake.requests[0];
    assert.equal(sent?.path, "/api/v1/chat/completions");
    assert.equal(sent?.body.temperature, 0.2);
    assert.equal(sent?.body.max_tokens, 50);
    assert.equal(sent?.headers["x-openrouter-title"], "Test Orchestrator");
    assert.equal(sent?.headers["http-referer"], "https://example.test");
    assert.equal(sent?.headers["x-title"], undefined, "the deprecated header is not sent");
    assert.equal(sent?.body.usage, undefined, "usage accounting is always on; usage.include is deprecated");
  });

  it("reads HTTP 200 with an error object as the upstream's error, classified by its code", async () => {
    fake.enqueue({ kind: "error-in-200", code: 502, message: "Provider returned error" });
    await assert.rejects(
      provider.complete({ model: "m/x", messages: [{ role: "user", content: "go" }] }),
      (error: unknown) =>
        OrchestratorError.isInstance(error) &&
        error.code === "upstream_error" &&
        error.kind === "transient" &&
        error.upstreamStatus === 502 &&
        /Provider returned error/.test(error.message),
    );
    fake.enqueue({ kind: "error-in-200", code: 400, message: "Invalid tool schema" });
    await assert.rejects(
      provider.complete({ model: "m/x", messages: [{ role: "user", content: "go" }] }),
      (error: unknown) => OrchestratorError.isInstance(error) && error.code === "upstream_bad_request",
    );
  });

  it("fails a stream that closes with neither [DONE] nor a finish_reason as truncated", async () => {
    fake.enqueue({ kind: "truncated", contentBefore: "The answer is forty" });
    const texts: string[] = [];
    await assert.rejects(
      async () => {
        for await (const event of provider.stream({
          model: "m/x",
          messages: [{ role: "user", content: "go" }],
        })) {
          if (event.type === "delta") texts.push(event.text);
          assert.notEqual(event.type, "done", "a cut-off answer never completes");
        }
      },
      (error: unknown) => OrchestratorError.isInstance(error) && error.code === "upstream_truncated",
    );
    assert.equal(texts.join(""), "The answer is forty");
  });

  it("streams deltas as they arrive and ends with the usage chunk", async () => {
    fake.enqueue({
      kind: "text",
      content: "one two three four five",
      chunkSize: 4,
      chunkDelayMs: 5,
      cost: 0.001,
    });
    const events: ChatStreamEvent[] = [];
    for await (const event of provider.stream({
      model: "m/x",
      messages: [{ role: "user", content: "count" }],
    })) {
      events.push(event);
    }
    const deltas = events.filter((e) => e.type === "delta");
    assert.ok(deltas.length >= 5, "several chunks, not one");
    assert.equal(deltas.map((e) => (e.type === "delta" ? e.text : "")).join(""), "one two three four five");
    const done = events.at(-1);
    assert.equal(done?.type, "done");
    if (done?.type === "done") {
      assert.equal(done.result.content, "one two three four five");
      assert.equal(done.result.usage.reportedCostUsd, 0.001);
    }
    assert.equal(fake.requests[0]?.body.stream, true);
  });

  it("surfaces an error inside a stream as a typed upstream error", async () => {
    fake.enqueue({ kind: "midstream-error", contentBefore: "partial", message: "provider went away" });
    await assert.rejects(
      async () => {
        for await (const _ of provider.stream({
          model: "m/x",
          messages: [{ role: "user", content: "go" }],
        })) {
          // drain
        }
      },
      (error: unknown) => OrchestratorError.isInstance(error) && /provider went away/.test(error.message),
    );
  });

  it("maps a connection reset to a transient error", async () => {
    fake.enqueue({ kind: "reset" });
    await assert.rejects(
      provider.complete({ model: "m/x", messages: [{ role: "user", content: "go" }] }),
      (error: unknown) => OrchestratorError.isInstance(error) && error.kind === "transient",
    );
  });

  it("gives up on a hung upstream at the deadline", async () => {
    fake.enqueue({ kind: "hang" });
    await assert.rejects(
      provider.complete({ model: "m/x", messages: [{ role: "user", content: "go" }], timeoutMs: 100 }),
      (error: unknown) => OrchestratorError.isInstance(error) && error.code === "upstream_timeout",
    );
  });

  it("stops when the caller cancels", async () => {
    fake.enqueue({ kind: "hang" });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    await assert.rejects(
      provider.complete({
        model: "m/x",
        messages: [{ role: "user", content: "go" }],
        signal: controller.signal,
      }),
      (error: unknown) => OrchestratorError.isInstance(error) && error.code === "cancelled",
    );
  });

  it("sends an internal message's cache breakpoint on its last text part, and reads the cache counts back", async () => {
    const usage = { promptTokens: 900, cachedTokens: 512, cacheWriteTokens: 256, cost: null };
    // Answered by model, not from the queue: an earlier test's abandoned call may still reach the fake.
    fake.respondWith((recorded) =>
      recorded.body.model === request.model
        ? { kind: "text", content: "ok", ...usage }
        : echoResponder(recorded),
    );
    const request = {
      model: "anthropic/claude-sonnet-4.5",
      messages: [
        {
          role: "system" as const,
          content: "A stable preamble.",
          cacheControl: { type: "ephemeral" as const },
        },
        {
          role: "user" as const,
          content: [
            { type: "text" as const, text: "Earlier turns." },
            { type: "image" as const, url: "https://example.test/a.png" },
          ],
          cacheControl: { type: "ephemeral" as const, ttl: "1h" as const },
        },
        { role: "assistant" as const, content: "Noted." },
        { role: "user" as const, content: "Now?" },
      ],
    };
    const result = await provider.complete(request);
    assert.deepEqual(result.usage, {
      promptTokens: 900,
      completionTokens: 1,
      cacheReadTokens: 512,
      cacheWriteTokens: 256,
    });
    const mine = () => fake.requests.filter((r) => r.body.model === request.model);
    const sent = mine()[0]?.body.messages;
    assert.deepEqual(sent?.[0], {
      role: "system",
      content: [{ type: "text", text: "A stable preamble.", cache_control: { type: "ephemeral" } }],
    });
    assert.deepEqual(sent?.[1]?.content, [
      { type: "text", text: "Earlier turns.", cache_control: { type: "ephemeral", ttl: "1h" } },
      { type: "image_url", image_url: { url: "https://example.test/a.png" } },
    ]);
    assert.equal(sent?.[2]?.content, "Noted.", "a message without a breakpoint is sent as before");
    assert.equal(sent?.[3]?.content, "Now?");

    let done: ChatStreamEvent | undefined;
    for await (const event of provider.stream(request)) if (event.type === "done") done = event;
    assert.equal(done?.type === "done" && done.result.usage.cacheReadTokens, 512);
    assert.equal(done?.type === "done" && done.result.usage.cacheWriteTokens, 256);
    assert.deepEqual(mine()[1]?.body.messages, sent, "the stream sends the same breakpoints");
    fake.respondWith(echoResponder);
  });

  it("reports a wrong key as a persistent error", async () => {
    const wrong = new OpenRouterProvider({ apiKey: "wrong", baseUrl: fake.baseUrl, defaultTimeoutMs: 1_000 });
    await assert.rejects(
      wrong.complete({ model: "m/x", messages: [{ role: "user", content: "go" }] }),
      (error: unknown) =>
        OrchestratorError.isInstance(error) && error.code === "upstream_auth_failed" && !error.retryable,
    );
  });
});
