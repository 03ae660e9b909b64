import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { useFakeOpenRouterApp } from "../support/fake-openrouter-app.ts";
import { callKind, models } from "../support/responders.ts";

const pdf = "data:application/pdf;base64,JVBERi0xLjQKJcfsj6IK";
const wav = "UklGRiQAAABXQVZFZm10IBAAAAABAAEA";

describe("/v1/chat/completions content parts and fields", () => {
  const app = useFakeOpenRouterApp({ respond: () => ({ kind: "text", content: "ok" }) });

  it("forwards file (PDF), input_audio, image detail, assistant refusal parts and role function", async () => {
    await app.client.chat.completions.create({
      model: "medium_ai",
      messages: [
        { role: "user", content: "What is the weather?" },
        { role: "assistant", content: null, function_call: { name: "get_weather", arguments: "{}" } },
        { role: "function", name: "get_weather", content: "sunny" },
        { role: "assistant", content: [{ type: "refusal", refusal: "I cannot help with that." }] },
        {
          role: "user",
          content: [
            { type: "text", text: "Summarise these" },
            { type: "file", file: { filename: "report.pdf", file_data: pdf } },
            { type: "input_audio", input_audio: { data: wav, format: "wav" } },
            { type: "image_url", image_url: { url: "https://example.com/a.png", detail: "low" } },
          ],
        },
      ],
    });
    const sent = app.fake.requests[0]?.body.messages;
    assert.deepEqual(sent?.[1], {
      role: "assistant",
      content: null,
      function_call: { name: "get_weather", arguments: "{}" },
    });
    assert.deepEqual(sent?.[2], { role: "function", name: "get_weather", content: "sunny" });
    assert.deepEqual(sent?.[3], {
      role: "assistant",
      content: [{ type: "refusal", refusal: "I cannot help with that." }],
    });
    assert.deepEqual(sent?.[4]?.content, [
      { type: "text", text: "Summarise these" },
      { type: "file", file: { filename: "report.pdf", file_data: pdf } },
      { type: "input_audio", input_audio: { data: wav, format: "wav" } },
      { type: "image_url", image_url: { url: "https://example.com/a.png", detail: "low" } },
    ]);
  });

  it("answers a reply that only calls tools with content null, as OpenAI does", async () => {
    app.fake.respondWith(() => ({
      kind: "text",
      content: "",
      toolCalls: [{ id: "call_1", name: "get_weather", arguments: "{}" }],
      finishReason: "tool_calls",
    }));
    const reply = await app.client.chat.completions.create({
      model: "medium_ai",
      messages: [{ role: "user", content: "weather?" }],
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
    });
    assert.equal(reply.choices[0]?.message.content, null);
    assert.equal(reply.choices[0]?.message.tool_calls?.length, 1);
  });

  it("refuses URLs that are not http(s) or inline data, on /v1 as on /chat", async () => {
    const cases: Array<[unknown, string]> = [
      [
        { type: "image_url", image_url: { url: "file:///etc/passwd" } },
        "messages[0].content[0].image_url.url",
      ],
      [{ type: "file", file: { file_data: "file:///etc/passwd" } }, "messages[0].content[0].file.file_data"],
      [{ type: "file", file: { filename: "a.pdf" } }, "messages[0].content[0].file"],
      [
        { type: "input_audio", input_audio: { data: "<not base64>", format: "wav" } },
        "messages[0].content[0].input_audio.data",
      ],
      [{ type: "video", video: {} }, "messages[0].content"],
    ];
    for (const [part, field] of cases) {
      const res = await app.t.post("/v1/chat/completions", {
        model: "medium_ai",
        messages: [{ role: "user", content: [part] }],
      });
      assert.equal(res.status, 400, JSON.stringify(part));
      assert.equal(res.body.error.param, field);
    }
    const chat = await app.t.post("/chat", { message: "look", images: ["file:///etc/passwd"] });
    assert.equal(chat.status, 400);
    assert.equal(chat.body.error.field, "images[0]");
    const nameless = await app.t.post("/v1/chat/completions", {
      model: "medium_ai",
      messages: [{ role: "function", content: "sunny" }],
    });
    assert.equal(nameless.status, 400);
    assert.equal(nameless.body.error.param, "messages[0].name");
    assert.equal(app.fake.requests.length, 0, "nothing refused reached the upstream");
  });

  it("answers an H request that carries tools or a response format with one model call, no workflow", async () => {
    app.fake.respondWith((request) =>
      callKind(request) === "categorize"
        ? { kind: "text", content: "H" }
        : { kind: "text", content: '{"answer":42}' },
    );
    const withTools = await app.client.chat.completions.create({
      model: "auto",
      messages: [{ role: "user", content: "plan and build a whole product" }],
      tools: [{ type: "function", function: { name: "search", parameters: { type: "object" } } }],
    });
    const extension = (withTools as unknown as { orchestrator: Record<string, unknown> }).orchestrator;
    assert.equal(extension.category, "H");
    assert.equal(extension.workflow_id, undefined);
    const answering = app.fake.requests.filter((r) => callKind(r) !== "categorize");
    assert.equal(answering.length, 1);
    assert.equal(answering[0]?.body.model, models.thinking);
    assert.equal((answering[0]?.body.tools as unknown[] | undefined)?.length, 1);

    app.fake.clear();
    const format = { type: "json_schema", json_schema: { name: "a", schema: { type: "object" } } } as const;
    const structured = await app.client.chat.completions.create({
      model: "auto",
      messages: [{ role: "user", content: "plan and build a whole product" }],
      response_format: format,
    });
    assert.equal(structured.choices[0]?.message.content, '{"answer":42}');
    const calls = app.fake.requests.filter((r) => callKind(r) !== "categorize");
    assert.deepEqual(
      calls.map((r) => r.body.response_format),
      [format],
    );
  });
});
