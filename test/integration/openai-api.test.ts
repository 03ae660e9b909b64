import assert from "node:assert/strict";
import { describe, it } from "node:test";
import OpenAI from "openai";
import { useFakeOpenRouterApp } from "../support/fake-openrouter-app.ts";
import { models, orchestrationResponder, requestsTo, routingResponder } from "../support/responders.ts";
import { startTestApp } from "../support/test-app.ts";

type Extended = { orchestrator: Record<string, any> };

describe("OpenAI-compatible API, driven by the official openai client", () => {
  const app = useFakeOpenRouterApp({
    config: { errorHandling: { circuitBreaker: { failureThreshold: 1000 } } },
    respond: routingResponder("M"),
  });

  it("model auto classifies and routes, and says who answered", async () => {
    const { data, response } = await app.client.chat.completions
      .create({
        model: "auto",
        messages: [{ role: "user", content: "What are the benefits of renewable energy?" }],
      })
      .withResponse();
    assert.equal(data.object, "chat.completion");
    assert.match(data.id, /^chatcmpl-/);
    assert.equal(data.model, models.medium);
    assert.match(data.choices[0]?.message.content ?? "", /answer from meta-llama\/llama-3.3-70b-instruct/);
    assert.equal(data.choices[0]?.finish_reason, "stop");
    assert.deepEqual(data.usage, {
      prompt_tokens: 150,
      completion_tokens: 21,
      total_tokens: 171,
      prompt_tokens_details: { cached_tokens: 0 },
    });
    const extension = (data as unknown as Extended).orchestrator;
    assert.equal(extension.category, "M");
    assert.equal(extension.role, "medium_ai");
    assert.equal(extension.cost_usd, 0.000201);
    assert.equal(response.headers.get("x-orchestrator-category"), "M");
    assert.equal(response.headers.get("x-orchestrator-model"), models.medium);
    // The deployment that answered: its provider beside its model.
    assert.equal(response.headers.get("x-orchestrator-provider"), "openrouter");
    assert.match(response.headers.get("x-orchestrator-route") ?? "", /pick=medium_ai; provider=openrouter$/);
    assert.deepEqual(
      app.fake.requests.map((r) => r.body.model),
      [models.categorizer, models.medium],
    );
  });

  it("sends the client's whole conversation and options on, stateless", async () => {
    await app.client.chat.completions.create({
      model: "auto",
      messages: [
        { role: "system", content: "You are terse." },
        { role: "user", content: "My name is Ada." },
        { role: "assistant", content: "Hello Ada." },
        { role: "user", content: "What is my name?" },
      ],
      temperature: 0.3,
      max_tokens: 77,
      response_format: { type: "json_object" },
      user: "user-42",
    });
    const answer = requestsTo(app.fake.requests, models.medium)[0];
    assert.deepEqual(
      answer?.body.messages.map((m) => [m.role, m.content]),
      [
        ["system", "You are terse."],
        ["user", "My name is Ada."],
        ["assistant", "Hello Ada."],
        ["user", "What is my name?"],
      ],
    );
    assert.equal(answer?.body.temperature, 0.3);
    assert.equal(answer?.body.max_tokens, 77);
    assert.deepEqual(answer?.body.response_format, { type: "json_object" });
    assert.equal(answer?.body.user, "user-42");
    const categorizer = requestsTo(app.fake.requests, models.categorizer)[0];
    assert.notEqual(categorizer?.body.temperature, 0.3, "client options go to the answering model only");
  });

  it("streams chunks as the upstream sends them, with a final usage chunk", async () => {
    app.fake.respondWith((request) =>
      request.body.model === models.categorizer
        ? { kind: "text", content: "M", cost: 0.000001 }
        : {
            kind: "text",
            content: "one two three four five six seven eight",
            chunkSize: 4,
            chunkDelayMs: 60,
            cost: 0.002,
          },
    );
    const stream = await app.client.chat.completions.create({
      model: "auto",
      messages: [{ role: "user", content: "count" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let firstContentAt: number | undefined;
    let lastContentAt = 0;
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      const piece = chunk.choices[0]?.delta.content;
      if (piece) {
        firstContentAt ??= performance.now();
        lastContentAt = performance.now();
        text += piece;
      }
    }
    assert.equal(text, "one two three four five six seven eight");
    // The upstream spreads its chunks over 9 × 60 ms: text relayed as it comes arrives spread out too (a
    // buffered answer would arrive at once). Measured between chunks, so a slow start on a busy machine
    // does not count.
    const spreadMs = lastContentAt - (firstContentAt ?? lastContentAt);
    assert.ok(spreadMs >= 400, `the text arrived over ${spreadMs} ms`);
    assert.equal((chunks[0] as unknown as Extended).orchestrator.category, "M");
    assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, "stop");
    const usageChunk = chunks.at(-1);
    assert.deepEqual(usageChunk?.choices, []);
    assert.equal(
      usageChunk?.usage?.total_tokens,
      (usageChunk?.usage?.prompt_tokens ?? 0) + (usageChunk?.usage?.completion_tokens ?? 0),
    );
    assert.equal((usageChunk as unknown as Extended).orchestrator.cost_usd, 0.002001);
  });

  it("passes image parts to the image model", async () => {
    const image = "data:image/png;base64,iVBORw0KGgo=";
    const completion = await app.client.chat.completions.create({
      model: "auto",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Describe this" },
            { type: "image_url", image_url: { url: image } },
          ],
        },
      ],
    });
    assert.equal(completion.model, models.gemini);
    assert.deepEqual(app.fake.requests[0]?.body.messages[0]?.content, [
      { type: "text", text: "Describe this" },
      { type: "image_url", image_url: { url: image } },
    ]);
  });

  it("takes a role, an alias or an upstream model id as the model", async () => {
    assert.equal(
      (
        await app.client.chat.completions.create({
          model: "medium_ai",
          messages: [{ role: "user", content: "hi" }],
        })
      ).model,
      models.medium,
    );
    assert.equal(
      (
        await app.client.chat.completions.create({
          model: "research_ai",
          messages: [{ role: "user", content: "hi" }],
        })
      ).model,
      models.thinking,
    );
    const direct = await app.client.chat.completions.create({
      model: "mistralai/mistral-small-3.2",
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(direct.model, "mistralai/mistral-small-3.2");
    assert.deepEqual(
      app.fake.requests.map((r) => r.body.model),
      [models.medium, models.thinking, "mistralai/mistral-small-3.2"],
      "no categorizer call when the client names the model",
    );
    assert.equal(
      app.fake.requests[2]?.body.max_tokens,
      undefined,
      "no invented max_tokens for a model named directly",
    );
  });

  it("forwards tools and returns the model's tool calls, plain and streamed", async () => {
    const tools = [
      {
        type: "function" as const,
        function: { name: "get_weather", parameters: { type: "object", properties: {} } },
      },
    ];
    const toolCall = { id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' };
    app.fake.respondWith(() => ({
      kind: "text",
      content: "",
      toolCalls: [toolCall],
      finishReason: "tool_calls",
    }));
    const plain = await app.client.chat.completions.create({
      model: "medium_ai",
      messages: [{ role: "user", content: "weather?" }],
      tools,
    });
    assert.deepEqual(plain.choices[0]?.message.tool_calls, [
      { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
    ]);
    assert.equal(plain.choices[0]?.finish_reason, "tool_calls");
    assert.deepEqual(app.fake.requests[0]?.body.tools, tools);

    const stream = app.client.chat.completions.stream({
      model: "medium_ai",
      messages: [{ role: "user", content: "weather?" }],
      tools,
    });
    const final = await stream.finalChatCompletion();
    const streamedCall = final.choices[0]?.message.tool_calls?.[0];
    assert.deepEqual(streamedCall?.type === "function" ? streamedCall.function : undefined, {
      name: "get_weather",
      arguments: '{"city":"Paris"}',
    });

    app.fake.respondWith(() => ({ kind: "text", content: "It is sunny." }));
    await app.client.chat.completions.create({
      model: "medium_ai",
      tools,
      messages: [
        { role: "user", content: "weather?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "get_weather", arguments: "{}" } },
          ],
        },
        { role: "tool", tool_call_id: "call_1", content: "sunny" },
      ],
    });
    const sent = app.fake.requests.at(-1)?.body.messages;
    assert.equal(sent?.[1]?.role, "assistant");
    assert.deepEqual((sent?.[1] as Record<string, unknown> | undefined)?.tool_calls, [
      { id: "call_1", type: "function", function: { name: "get_weather", arguments: "{}" } },
    ]);
    assert.deepEqual(sent?.[2], { role: "tool", content: "sunny", tool_call_id: "call_1" });
  });

  it("waits for an H request's workflow: acknowledgement, then the finished answer", async () => {
    app.fake.respondWith(orchestrationResponder({ finalAnswer: "THE RESULT" }));
    const plain = await app.client.chat.completions.create({
      model: "auto",
      messages: [{ role: "user", content: "big project" }],
    });
    assert.equal(plain.choices[0]?.message.content, "On it.\n\nTHE RESULT");
    assert.equal((plain as unknown as Extended).orchestrator.category, "H");
    assert.match((plain as unknown as Extended).orchestrator.workflow_id, /^[0-9a-f-]{36}$/);

    const stream = await app.client.chat.completions.create({
      model: "auto",
      messages: [{ role: "user", content: "big project" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.equal(text, "On it.\n\nTHE RESULT");
  });

  it("maps errors to the SDK's own classes, and its retries obey x-should-retry", async () => {
    await assert.rejects(
      app.client.chat.completions.create({ model: "gpt-99", messages: [{ role: "user", content: "hi" }] }),
      (error: unknown) =>
        error instanceof OpenAI.NotFoundError && error.code === "model_not_found" && error.param === "model",
    );
    await assert.rejects(
      app.client.chat.completions.create({ model: "auto", messages: [] }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && /messages/.test(error.message),
    );
    app.fake.respondWith(() => ({ kind: "error", status: 401, message: "User not found." }));
    const retrying = new OpenAI({ apiKey: "x", baseURL: `${app.t.url}/v1`, maxRetries: 2 });
    await assert.rejects(
      retrying.chat.completions.create({ model: "medium_ai", messages: [{ role: "user", content: "hi" }] }),
      (error: unknown) =>
        error instanceof OpenAI.InternalServerError &&
        error.status === 502 &&
        /User not found/.test(error.message),
    );
    assert.equal(app.fake.requests.length, 1, "a persistent error is not retried, by us or by the SDK");
  });

  it("reports a failure inside a stream as an error the SDK raises", async () => {
    app.fake.respondWith(() => ({
      kind: "midstream-error",
      contentBefore: "partial answer",
      message: "provider crashed",
    }));
    const stream = await app.client.chat.completions.create({
      model: "medium_ai",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    let text = "";
    await assert.rejects(async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    }, /provider crashed/);
    assert.equal(text, "partial answer");
  });

  it("lists auto, the roles and the upstream models", async () => {
    const ids = (await app.client.models.list()).data.map((m) => m.id);
    for (const id of ["auto", "medium_ai", "thinking_ai", "research_ai", models.medium, models.thinking])
      assert.ok(ids.includes(id), id);
    assert.ok(!ids.includes("video_generation_ai"), "only models a /v1 endpoint can call");
  });
});

describe("POST /chat with stream: true", () => {
  it("streams the same chunks, with the /chat fields first and last, and stores the turn", async () => {
    const t = await startTestApp();
    try {
      t.fake?.respondWith(routingResponder("M"));
      const response = await fetch(`${t.url}/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "stream me", stream: true }),
      });
      assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
      const events = (await response.text())
        .split("\n\n")
        .filter((block) => block.startsWith("data: "))
        .map((block) => block.slice(6));
      assert.equal(events.at(-1), "[DONE]");
      const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
      assert.equal(chunks[0].orchestrator.category, "M");
      const sessionId = chunks[0].orchestrator.session_id;
      const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
      assert.match(text, /^answer from meta-llama\/llama-3.3-70b-instruct/);
      const last = chunks.at(-1);
      assert.equal(last.orchestrator.session_id, sessionId);
      assert.equal(last.orchestrator.response, text);
      const history = await t.get(`/sessions/${sessionId}`);
      assert.deepEqual(
        history.body.messages.map((m: { content: string }) => m.content),
        ["stream me", text],
      );
    } finally {
      await t.close();
    }
  });

  it("still answers a refused request with its status before any stream starts", async () => {
    const t = await startTestApp();
    try {
      const res = await t.post("/chat", { message: "hi", stream: true, context_tokens: 999_999 });
      assert.equal(res.status, 413);
      assert.equal(res.body.error.code, "context_too_large");
    } finally {
      await t.close();
    }
  });
});

describe("client API keys", () => {
  it("are off by default and, when set, refuse requests without a valid key", async () => {
    const key = "sk-orchestrator-test-key-0001";
    const t = await startTestApp({ config: { api_keys: { clients: [key] } } });
    try {
      t.fake?.respondWith(routingResponder("M"));
      const anonymous = new OpenAI({ apiKey: "wrong-key", baseURL: `${t.url}/v1`, maxRetries: 0 });
      await assert.rejects(
        anonymous.chat.completions.create({ model: "auto", messages: [{ role: "user", content: "hi" }] }),
        (error: unknown) => error instanceof OpenAI.AuthenticationError && error.code === "invalid_api_key",
      );
      const allowed = new OpenAI({ apiKey: key, baseURL: `${t.url}/v1`, maxRetries: 0 });
      assert.equal(
        (
          await allowed.chat.completions.create({
            model: "auto",
            messages: [{ role: "user", content: "hi" }],
          })
        ).model,
        models.medium,
      );
      const plain = await t.post("/chat", { message: "hi" });
      assert.equal(plain.status, 401);
      assert.equal(plain.body.error.code, "invalid_api_key");
      assert.equal((await t.get("/health")).status, 200, "health checks need no key");
    } finally {
      await t.close();
    }
  });
});
