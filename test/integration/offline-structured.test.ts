import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createOpenAI } from "@ai-sdk/openai";
import Anthropic from "@anthropic-ai/sdk";
import { generateText, jsonSchema, Output, stepCountIs, tool } from "ai";
import OpenAI from "openai";
import { startTestApp, type TestApp } from "../support/test-app.ts";

const personSchema = {
  type: "object",
  properties: {
    name: { type: "string" },
    age: { type: "integer", minimum: 0 },
    email: { type: "string", format: "email" },
  },
  required: ["name", "age", "email"],
  additionalProperties: false,
} as const;

describe("offline mode honours tools and response_format", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ mode: "offline" });
  });
  after(() => t.close());

  it("answers json_schema with an object that satisfies it, and json_object with JSON", async () => {
    const client = new OpenAI({ apiKey: "local", baseURL: `${t.url}/v1`, maxRetries: 0 });
    const reply = await client.chat.completions.create({
      model: "medium_ai",
      messages: [{ role: "user", content: "who?" }],
      response_format: {
        type: "json_schema",
        json_schema: { name: "person", schema: personSchema, strict: true },
      },
    });
    const person = JSON.parse(reply.choices[0]?.message.content ?? "");
    assert.deepEqual(Object.keys(person).sort(), ["age", "email", "name"]);
    assert.equal(typeof person.age, "number");
    const loose = await client.chat.completions.create({
      model: "medium_ai",
      messages: [{ role: "user", content: "anything" }],
      response_format: { type: "json_object" },
    });
    assert.equal(JSON.parse(loose.choices[0]?.message.content ?? "").simulated, true);

    // The Vercel AI SDK validates the object against the schema itself, on the Responses API.
    const openai = createOpenAI({ baseURL: `${t.url}/v1`, apiKey: "local" });
    const result = await generateText({
      model: openai("medium_ai"),
      prompt: "who?",
      output: Output.object({
        schema: jsonSchema<{ name: string; age: number; email: string }>(personSchema),
      }),
      maxRetries: 0,
    });
    assert.equal(typeof result.output.name, "string");
  });

  it("calls the tool a tool_choice forces, with arguments that fit its parameters, plain and streamed", async () => {
    const openai = createOpenAI({ baseURL: `${t.url}/v1`, apiKey: "local" });
    const seen: unknown[] = [];
    const weather = tool({
      description: "Current weather in a city",
      inputSchema: jsonSchema<{ city: string; days: number }>({
        type: "object",
        properties: { city: { type: "string" }, days: { type: "integer", minimum: 1 } },
        required: ["city", "days"],
      }),
      execute: async (input) => {
        seen.push(input);
        return "sunny";
      },
    });
    for (const model of [openai.chat("medium_ai"), openai("medium_ai")]) {
      const result = await generateText({
        model,
        prompt: "weather?",
        tools: { get_weather: weather },
        toolChoice: "required",
        stopWhen: stepCountIs(1),
        maxRetries: 0,
      });
      assert.equal(result.steps[0]?.toolCalls[0]?.toolName, "get_weather");
      assert.equal(result.steps[0]?.toolResults[0]?.output, "sunny");
    }
    assert.deepEqual(seen, [
      { city: "simulated", days: 1 },
      { city: "simulated", days: 1 },
    ]);
    const plain = await generateText({
      model: openai.chat("medium_ai"),
      prompt: "hi",
      tools: { get_weather: weather },
    });
    assert.equal(plain.toolCalls.length, 0, "tool_choice auto does not force a call");

    const claude = new Anthropic({ apiKey: "local", baseURL: t.url, maxRetries: 0 });
    const streamed = await claude.messages
      .stream({
        model: "medium_ai",
        max_tokens: 100,
        tools: [
          { name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" } } } },
        ],
        tool_choice: { type: "tool", name: "get_weather" },
        messages: [{ role: "user", content: "weather?" }],
      })
      .finalMessage();
    assert.deepEqual(streamed.content, [
      {
        type: "tool_use",
        id: "call_simulated_get_weather",
        name: "get_weather",
        input: { city: "simulated" },
      },
    ]);
  });
});
