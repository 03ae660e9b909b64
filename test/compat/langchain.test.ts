import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HumanMessage, ToolMessage } from "@langchain/core/messages";
import { ChatOpenAI } from "@langchain/openai";
import {
  clientKey,
  limitedKey,
  person,
  personSchema,
  redPixel,
  useCompatApps,
} from "../support/compat-fixture.ts";

// LangChain's ChatOpenAI on chat completions and, with useResponsesApi, on the Responses API.
const flavours = ["chat", "responses"] as const;

// Which endpoint of the service each call went to.
const calledPaths: string[] = [];
const recordingFetch: typeof fetch = (input, init) => {
  calledPaths.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
  return fetch(input, init);
};

const weatherTool = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Current weather in a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

describe("LangChain ChatOpenAI", () => {
  const apps = useCompatApps();

  for (const flavour of flavours) {
    const chat = (model = "medium_ai", url = apps.main.url, apiKey = clientKey) =>
      new ChatOpenAI({
        model,
        apiKey,
        maxRetries: 0,
        useResponsesApi: flavour === "responses",
        configuration: { baseURL: `${url}/v1`, fetch: recordingFetch },
      });

    describe(flavour, () => {
      it("plain and streamed", async () => {
        const reply = await chat().invoke("hello");
        assert.equal(reply.text, "You said: hello");
        assert.equal(reply.usage_metadata?.input_tokens, 20);
        assert.equal(calledPaths.at(-1), flavour === "responses" ? "/v1/responses" : "/v1/chat/completions");
        let text = "";
        for await (const chunk of await chat().stream("hello")) text += chunk.text;
        assert.equal(text, "You said: hello");
      });

      it("tools", async () => {
        const model = chat().bindTools([weatherTool]);
        const question = new HumanMessage("weather in Paris?");
        const call = await model.invoke([question]);
        assert.deepEqual(call.tool_calls?.[0]?.args, { city: "Paris" });
        const answer = await model.invoke([
          question,
          call,
          new ToolMessage({ tool_call_id: call.tool_calls?.[0]?.id ?? "", content: "sunny" }),
        ]);
        assert.equal(answer.text, "The weather is sunny.");
      });

      it("structured output", async () => {
        const structured = chat().withStructuredOutput(
          { title: "person", ...personSchema },
          { method: "jsonSchema", name: "person" },
        );
        assert.deepEqual(await structured.invoke("who?"), person);
      });

      it("images", async () => {
        const reply = await chat("auto").invoke([
          new HumanMessage({
            content: [
              { type: "text", text: "what is this?" },
              { type: "image_url", image_url: { url: redPixel } },
            ],
          }),
        ]);
        assert.equal(reply.text, "I see a small red square.");
      });

      it("errors carry the status: 401, 404, 429", async () => {
        const statusOf = async (run: Promise<unknown>) =>
          run.then(
            () => assert.fail("the call succeeded"),
            (error: { status?: number }) => error.status,
          );
        assert.equal(
          await statusOf(chat("medium_ai", apps.main.url, "sk-wrong-key-0000000000").invoke("hi")),
          401,
        );
        assert.equal(await statusOf(chat("no_such_model").invoke("hi")), 404);
        const limited = chat("medium_ai", apps.limited.url, limitedKey(`langchain-${flavour}`));
        await limited.invoke("hi");
        assert.equal(await statusOf(limited.invoke("hi")), 429);
      });
    });
  }
});
