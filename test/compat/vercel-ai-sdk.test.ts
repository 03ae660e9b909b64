import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import {
  APICallError,
  generateText,
  jsonSchema,
  type LanguageModel,
  Output,
  stepCountIs,
  streamText,
  tool,
} from "ai";
import {
  clientKey,
  limitedKey,
  person,
  personSchema,
  redPixel,
  useCompatApps,
} from "../support/compat-fixture.ts";
import { models } from "../support/responders.ts";

// The Vercel AI SDK three ways: @ai-sdk/openai's default model (the Responses API), its .chat() model
// (chat completions), and @ai-sdk/openai-compatible (chat completions).
const flavours = ["responses", "chat", "compatible"] as const;
type Flavour = (typeof flavours)[number];

// Which endpoint of the service each call went to.
const calledPaths: string[] = [];
const recordingFetch: typeof fetch = (input, init) => {
  calledPaths.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
  return fetch(input, init);
};

function modelFor(flavour: Flavour, baseURL: string, apiKey: string, id: string): LanguageModel {
  if (flavour === "compatible") {
    return createOpenAICompatible({
      name: "orchestrator",
      baseURL,
      apiKey,
      supportsStructuredOutputs: true,
      includeUsage: true,
      fetch: recordingFetch,
    })(id);
  }
  const openai = createOpenAI({ baseURL, apiKey, fetch: recordingFetch });
  return flavour === "chat" ? openai.chat(id) : openai(id);
}

const weather = tool({
  description: "Current weather in a city",
  inputSchema: jsonSchema<{ city: string }>({
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
  }),
  execute: async ({ city }) => `sunny in ${city}`,
});

describe("the Vercel AI SDK", () => {
  const apps = useCompatApps();

  const model = (flavour: Flavour, id = "medium_ai") =>
    modelFor(flavour, `${apps.main.url}/v1`, clientKey, id);

  for (const flavour of flavours) {
    describe(flavour, () => {
      it("plain and streamed text", async () => {
        const plain = await generateText({ model: model(flavour), prompt: "hello", maxRetries: 0 });
        assert.equal(plain.text, "You said: hello");
        assert.equal(plain.usage.inputTokens, 20);
        assert.equal(plain.usage.outputTokens, 8);
        assert.equal(calledPaths.at(-1), flavour === "responses" ? "/v1/responses" : "/v1/chat/completions");
        const streamed = streamText({ model: model(flavour), prompt: "hello", maxRetries: 0 });
        let text = "";
        for await (const piece of streamed.textStream) text += piece;
        assert.equal(text, "You said: hello");
        assert.equal((await streamed.usage).outputTokens, 8);
      });

      it("a tool loop, plain and streamed", async () => {
        const plain = await generateText({
          model: model(flavour),
          prompt: "weather in Paris?",
          tools: { get_weather: weather },
          stopWhen: stepCountIs(3),
          maxRetries: 0,
        });
        assert.equal(plain.text, "The weather is sunny in Paris.");
        assert.equal(plain.steps[0]?.toolCalls[0]?.toolName, "get_weather");
        const streamed = streamText({
          model: model(flavour),
          prompt: "weather in Paris?",
          tools: { get_weather: weather },
          stopWhen: stepCountIs(3),
          maxRetries: 0,
        });
        let text = "";
        for await (const piece of streamed.textStream) text += piece;
        assert.equal(text, "The weather is sunny in Paris.");
      });

      it("structured output", async () => {
        const result = await generateText({
          model: model(flavour),
          prompt: "who?",
          output: Output.object({ schema: jsonSchema<typeof person>(personSchema) }),
          maxRetries: 0,
        });
        assert.deepEqual(result.output, person);
        const format = apps.main.fake?.requests.at(-1)?.body.response_format as { type: string };
        assert.equal(format.type, "json_schema");
      });

      it("images", async () => {
        const result = await generateText({
          model: model(flavour, "auto"),
          messages: [
            {
              role: "user",
              content: [
                { type: "text", text: "what is this?" },
                { type: "image", image: redPixel },
              ],
            },
          ],
          maxRetries: 0,
        });
        assert.equal(result.text, "I see a small red square.");
        assert.equal(apps.main.fake?.requests.at(-1)?.body.model, models.gemini);
      });

      it("errors arrive as APICallError with the status: 401, 404, 429", async () => {
        const statusOf = async (run: Promise<unknown>) => {
          try {
            await run;
          } catch (error) {
            assert.ok(APICallError.isInstance(error), String(error));
            return error.statusCode;
          }
          assert.fail("the call succeeded");
        };
        const wrongKey = modelFor(flavour, `${apps.main.url}/v1`, "sk-wrong-key-000000000000", "medium_ai");
        assert.equal(await statusOf(generateText({ model: wrongKey, prompt: "hi", maxRetries: 0 })), 401);
        assert.equal(
          await statusOf(
            generateText({ model: model(flavour, "no_such_model"), prompt: "hi", maxRetries: 0 }),
          ),
          404,
        );
        const limited = modelFor(flavour, `${apps.limited.url}/v1`, limitedKey(flavour), "medium_ai");
        await generateText({ model: limited, prompt: "hi", maxRetries: 0 });
        assert.equal(await statusOf(generateText({ model: limited, prompt: "hi", maxRetries: 0 })), 429);
        // A stream that fails before its first token is a typed error too, not a generic stream error.
        const failing = streamText({
          model: model(flavour, "no_such_model"),
          prompt: "hi",
          maxRetries: 0,
          onError: () => {},
        });
        let streamError: unknown;
        for await (const part of failing.fullStream) if (part.type === "error") streamError = part.error;
        assert.ok(APICallError.isInstance(streamError));
        assert.equal(streamError.statusCode, 404);
      });
    });
  }
});
