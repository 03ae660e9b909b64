import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import OpenAI from "openai";
import {
  clientKey,
  limitedKey,
  person,
  personSchema,
  redPixel,
  useCompatApps,
} from "../support/compat-fixture.ts";
import { models } from "../support/responders.ts";

describe("the official openai SDK", () => {
  const apps = useCompatApps();
  let client: OpenAI;

  before(() => {
    client = new OpenAI({ apiKey: clientKey, baseURL: `${apps.main.url}/v1`, maxRetries: 0 });
  });

  describe("chat completions", () => {
    it("plain and streamed", async () => {
      const plain = await client.chat.completions.create({
        model: "medium_ai",
        messages: [{ role: "user", content: "hello" }],
      });
      assert.equal(plain.choices[0]?.message.content, "You said: hello");
      assert.equal(plain.model, models.medium);
      const stream = await client.chat.completions.create({
        model: "medium_ai",
        messages: [{ role: "user", content: "hello" }],
        stream: true,
      });
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      assert.equal(text, "You said: hello");
    });

    it("tools and structured output", async () => {
      const runner = client.chat.completions.runTools({
        model: "medium_ai",
        messages: [{ role: "user", content: "weather in Paris?" }],
        tools: [
          {
            type: "function",
            function: {
              name: "get_weather",
              description: "Current weather in a city",
              parameters: { type: "object", properties: { city: { type: "string" } } },
              function: (args: string) => `sunny in ${(JSON.parse(args) as { city: string }).city}`,
            },
          },
        ],
      });
      assert.equal(await runner.finalContent(), "The weather is sunny in Paris.");
      const parsed = await client.chat.completions.parse({
        model: "medium_ai",
        messages: [{ role: "user", content: "who?" }],
        response_format: {
          type: "json_schema",
          json_schema: { name: "person", schema: personSchema, strict: true },
        },
      });
      assert.deepEqual(JSON.parse(parsed.choices[0]?.message.content ?? ""), person);
    });

    it("images", async () => {
      const reply = await client.chat.completions.create({
        model: "auto",
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "what is this?" },
              { type: "image_url", image_url: { url: redPixel } },
            ],
          },
        ],
      });
      assert.equal(reply.choices[0]?.message.content, "I see a small red square.");
      assert.equal(reply.model, models.gemini);
    });
  });

  describe("responses", () => {
    it("plain and streamed, with the Responses event sequence", async () => {
      const plain = await client.responses.create({
        model: "medium_ai",
        input: "hello",
        instructions: "Be brief.",
      });
      assert.equal(plain.object, "response");
      assert.equal(plain.status, "completed");
      assert.equal(plain.output_text, "You said: hello");
      assert.equal(plain.usage?.input_tokens, 20);
      assert.equal(plain.usage?.output_tokens, 8);
      const sent = apps.main.fake?.requests.at(-1)?.body.messages;
      assert.deepEqual(sent?.[0], { role: "system", content: "Be brief." });

      const stream = await client.responses.create({ model: "medium_ai", input: "hello", stream: true });
      const types: string[] = [];
      let text = "";
      let completed: OpenAI.Responses.Response | undefined;
      for await (const event of stream) {
        types.push(event.type);
        if (event.type === "response.output_text.delta") text += event.delta;
        if (event.type === "response.completed") completed = event.response;
      }
      assert.equal(text, "You said: hello");
      assert.deepEqual(
        [...new Set(types)],
        [
          "response.created",
          "response.in_progress",
          "response.output_item.added",
          "response.content_part.added",
          "response.output_text.delta",
          "response.output_text.done",
          "response.content_part.done",
          "response.output_item.done",
          "response.completed",
        ],
      );
      assert.equal(completed?.output_text, "You said: hello");
      assert.equal(completed?.usage?.total_tokens, 28);
    });

    it("function tools, tool outputs and previous_response_id", async () => {
      const tools: OpenAI.Responses.FunctionTool[] = [
        { type: "function", name: "get_weather", parameters: { type: "object" }, strict: false },
      ];
      const first = await client.responses.create({ model: "medium_ai", input: "weather?", tools });
      const call = first.output.find((item) => item.type === "function_call");
      assert.equal(call?.type === "function_call" ? call.arguments : undefined, '{"city":"Paris"}');
      const second = await client.responses.create({
        model: "medium_ai",
        previous_response_id: first.id,
        input: [{ type: "function_call_output", call_id: "call_weather_1", output: "sunny" }],
        tools,
      });
      assert.equal(second.output_text, "The weather is sunny.");
      const sent = apps.main.fake?.requests.at(-1)?.body.messages as Array<Record<string, unknown>>;
      assert.deepEqual(
        sent.map((m) => m.role),
        ["user", "assistant", "tool"],
      );

      const streamed = client.responses.stream({ model: "medium_ai", input: "weather?", tools });
      let args = "";
      streamed.on("response.function_call_arguments.delta", (event) => {
        args += event.delta;
      });
      const final = await streamed.finalResponse();
      assert.equal(args, '{"city":"Paris"}');
      assert.equal(final.output[0]?.type, "function_call");
    });

    it("structured output through text.format", async () => {
      const reply = await client.responses.create({
        model: "medium_ai",
        input: "who?",
        text: { format: { type: "json_schema", name: "person", schema: personSchema, strict: true } },
        max_output_tokens: 100,
        temperature: 0.2,
      });
      assert.deepEqual(JSON.parse(reply.output_text), person);
      const sent = apps.main.fake?.requests.at(-1)?.body;
      assert.deepEqual(sent?.response_format, {
        type: "json_schema",
        json_schema: { name: "person", schema: personSchema, strict: true },
      });
      assert.equal(sent?.max_tokens, 100);
      assert.equal(sent?.temperature, 0.2);
    });

    it("images", async () => {
      const reply = await client.responses.create({
        model: "auto",
        input: [
          {
            role: "user",
            content: [
              { type: "input_text", text: "what is this?" },
              { type: "input_image", image_url: redPixel, detail: "auto" },
            ],
          },
        ],
      });
      assert.equal(reply.output_text, "I see a small red square.");
      assert.equal(reply.model, models.gemini);
    });
  });

  it("raises the typed errors: 401, 404, 429", async () => {
    const wrongKey = new OpenAI({
      apiKey: "sk-wrong-key-00000000000",
      baseURL: `${apps.main.url}/v1`,
      maxRetries: 0,
    });
    await assert.rejects(
      wrongKey.chat.completions.create({ model: "auto", messages: [{ role: "user", content: "hi" }] }),
      OpenAI.AuthenticationError,
    );
    await assert.rejects(
      wrongKey.responses.create({ model: "auto", input: "hi" }),
      OpenAI.AuthenticationError,
    );
    await assert.rejects(
      client.chat.completions.create({
        model: "no_such_model",
        messages: [{ role: "user", content: "hi" }],
        stream: true,
      }),
      (error: unknown) => error instanceof OpenAI.NotFoundError && error.code === "model_not_found",
    );
    await assert.rejects(
      client.responses.create({ model: "no_such_model", input: "hi", stream: true }),
      OpenAI.NotFoundError,
    );
    const limited = new OpenAI({
      apiKey: limitedKey("openai"),
      baseURL: `${apps.limited.url}/v1`,
      maxRetries: 0,
    });
    await limited.responses.create({ model: "medium_ai", input: "hi" });
    await assert.rejects(
      limited.responses.create({ model: "medium_ai", input: "hi" }),
      OpenAI.RateLimitError,
    );
    await assert.rejects(
      limited.chat.completions.create({ model: "medium_ai", messages: [{ role: "user", content: "hi" }] }),
      OpenAI.RateLimitError,
    );
  });
});
