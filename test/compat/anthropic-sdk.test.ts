import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import {
  clientKey,
  limitedKey,
  person,
  personSchema,
  redPixel,
  useCompatApps,
} from "../support/compat-fixture.ts";
import { models } from "../support/responders.ts";

const weatherTool: Anthropic.Tool = {
  name: "get_weather",
  description: "Current weather in a city",
  input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

describe("the Anthropic SDK on /v1/messages", () => {
  const apps = useCompatApps();
  let client: Anthropic;

  before(() => {
    // The SDK appends /v1/messages to the base URL and sends the key as x-api-key.
    client = new Anthropic({ apiKey: clientKey, baseURL: apps.main.url, maxRetries: 0 });
  });

  it("plain, with the system prompt and stop sequences forwarded", async () => {
    const message = await client.messages.create({
      model: "medium_ai",
      max_tokens: 200,
      system: "Be brief.",
      stop_sequences: ["END"],
      messages: [{ role: "user", content: "hello" }],
    });
    assert.equal(message.type, "message");
    assert.deepEqual(message.content, [{ type: "text", text: "You said: hello" }]);
    assert.equal(message.stop_reason, "end_turn");
    assert.equal(message.usage.input_tokens, 20);
    assert.equal(message.usage.output_tokens, 8);
    assert.equal(message.model, models.medium);
    const sent = apps.main.fake?.requests.at(-1)?.body;
    assert.deepEqual(sent?.messages[0], { role: "system", content: "Be brief." });
    assert.deepEqual(sent?.stop, ["END"]);
    assert.equal(sent?.max_tokens, 200);
  });

  it("streaming, with the Messages event sequence", async () => {
    const raw = await client.messages.create({
      model: "medium_ai",
      max_tokens: 200,
      messages: [{ role: "user", content: "hello" }],
      stream: true,
    });
    const types: string[] = [];
    for await (const event of raw) types.push(event.type);
    assert.deepEqual(
      [...new Set(types)],
      [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
      ],
    );
    const stream = client.messages.stream({
      model: "medium_ai",
      max_tokens: 200,
      messages: [{ role: "user", content: "hello" }],
    });
    let text = "";
    stream.on("text", (delta) => {
      text += delta;
    });
    const final = await stream.finalMessage();
    assert.equal(text, "You said: hello");
    assert.deepEqual(final.content, [{ type: "text", text: "You said: hello" }]);
    assert.equal(final.usage.output_tokens, 8);
    assert.equal(final.usage.input_tokens, 20);
  });

  it("tools: tool_use, then tool_result, plain and streamed", async () => {
    const question: Anthropic.MessageParam = { role: "user", content: "weather in Paris?" };
    const first = await client.messages.create({
      model: "medium_ai",
      max_tokens: 200,
      tools: [weatherTool],
      messages: [question],
    });
    assert.equal(first.stop_reason, "tool_use");
    const use = first.content.find((block) => block.type === "tool_use");
    assert.deepEqual(use?.type === "tool_use" ? use.input : undefined, { city: "Paris" });
    const second = await client.messages.create({
      model: "medium_ai",
      max_tokens: 200,
      tools: [weatherTool],
      messages: [
        question,
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: use?.id ?? "", content: "sunny" }] },
      ],
    });
    assert.deepEqual(second.content, [{ type: "text", text: "The weather is sunny." }]);
    const sent = apps.main.fake?.requests.at(-1)?.body.messages as Array<Record<string, unknown>>;
    assert.deepEqual(
      sent.map((m) => m.role),
      ["user", "assistant", "tool"],
    );

    const streamed = await client.messages
      .stream({ model: "medium_ai", max_tokens: 200, tools: [weatherTool], messages: [question] })
      .finalMessage();
    const streamedUse = streamed.content.find((block) => block.type === "tool_use");
    assert.deepEqual(streamedUse?.type === "tool_use" ? streamedUse.input : undefined, { city: "Paris" });
    assert.equal(streamed.stop_reason, "tool_use");
  });

  it("structured output through a forced tool", async () => {
    apps.main.fake?.enqueue({
      kind: "text",
      content: "",
      toolCalls: [{ id: "call_person", name: "record_person", arguments: JSON.stringify(person) }],
      finishReason: "tool_calls",
    });
    const message = await client.messages.create({
      model: "medium_ai",
      max_tokens: 200,
      tools: [
        { name: "record_person", input_schema: { ...personSchema, required: [...personSchema.required] } },
      ],
      tool_choice: { type: "tool", name: "record_person" },
      messages: [{ role: "user", content: "who?" }],
    });
    const use = message.content.find((block) => block.type === "tool_use");
    assert.deepEqual(use?.type === "tool_use" ? use.input : undefined, person);
    assert.deepEqual(apps.main.fake?.requests.at(-1)?.body.tool_choice, {
      type: "function",
      function: { name: "record_person" },
    });
  });

  it("images", async () => {
    const [, data] = redPixel.split(",");
    const message = await client.messages.create({
      model: "auto",
      max_tokens: 200,
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "what is this?" },
            { type: "image", source: { type: "base64", media_type: "image/png", data: data ?? "" } },
          ],
        },
      ],
    });
    assert.deepEqual(message.content, [{ type: "text", text: "I see a small red square." }]);
    assert.equal(message.model, models.gemini);
  });

  it("counts a request's input tokens", async () => {
    const count = (content: string, tools: Anthropic.Tool[] = []) =>
      client.messages.countTokens({
        model: "medium_ai",
        system: "Be brief.",
        tools,
        messages: [{ role: "user", content }],
      });
    const short = await count("hello");
    assert.ok(short.input_tokens > 0);
    assert.ok((await count("hello ".repeat(100))).input_tokens >= short.input_tokens + 90);
    assert.ok((await count("hello", [weatherTool])).input_tokens > short.input_tokens);
    await assert.rejects(
      client.messages.countTokens({ model: "no_such_model", messages: [{ role: "user", content: "hi" }] }),
      Anthropic.NotFoundError,
    );
  });

  it("raises the typed errors: 401, 404, 429, also for a stream that fails before it starts", async () => {
    const wrongKey = new Anthropic({
      apiKey: "sk-wrong-key-0000000000",
      baseURL: apps.main.url,
      maxRetries: 0,
    });
    const ask = (on: Anthropic, model = "medium_ai") =>
      on.messages.create({ model, max_tokens: 10, messages: [{ role: "user", content: "hi" }] });
    await assert.rejects(ask(wrongKey), Anthropic.AuthenticationError);
    await assert.rejects(ask(client, "no_such_model"), (error: unknown) => {
      assert.ok(error instanceof Anthropic.NotFoundError);
      assert.equal((error.error as { error?: { type?: string } }).error?.type, "not_found_error");
      return true;
    });
    await assert.rejects(
      client.messages
        .stream({ model: "no_such_model", max_tokens: 10, messages: [{ role: "user", content: "hi" }] })
        .finalMessage(),
      Anthropic.NotFoundError,
    );
    const limited = new Anthropic({
      apiKey: limitedKey("anthropic"),
      baseURL: apps.limited.url,
      maxRetries: 0,
    });
    await ask(limited);
    await assert.rejects(ask(limited), Anthropic.RateLimitError);
    await assert.rejects(
      client.messages.create({ model: "medium_ai", max_tokens: 10, messages: [] }),
      Anthropic.BadRequestError,
    );
  });
});
