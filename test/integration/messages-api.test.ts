import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { useFakeOpenRouterApp } from "../support/fake-openrouter-app.ts";

// Wire format: https://docs.anthropic.com/en/docs/build-with-claude/streaming and
// https://docs.anthropic.com/en/api/errors
describe("POST /v1/messages", () => {
  const app = useFakeOpenRouterApp({
    respond: () => ({ kind: "text", content: "hello there", chunkSize: 3 }),
  });

  const ask = (body: Record<string, unknown>) =>
    app.t.post("/v1/messages", body, { "anthropic-version": "2023-06-01" });

  it("refuses bad input in Anthropic's error shape, naming the field, before anything goes upstream", async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ model: "medium_ai", messages: [{ role: "user", content: "hi" }] }, /^max_tokens/],
      [
        { model: "medium_ai", max_tokens: 10, messages: [{ role: "system", content: "hi" }] },
        /^messages\[0\]\.role/,
      ],
      [
        {
          model: "medium_ai",
          max_tokens: 10,
          messages: [
            {
              role: "user",
              content: [{ type: "image", source: { type: "url", url: "file:///etc/passwd" } }],
            },
          ],
        },
        /^messages\[0\]\.content\[0\]\.source\.url/,
      ],
      [
        {
          model: "medium_ai",
          max_tokens: 10,
          tools: [{ type: "web_search_20250305", name: "web_search" }],
          messages: [{ role: "user", content: "hi" }],
        },
        /^tools\[0\]/,
      ],
    ];
    for (const [body, message] of cases) {
      const res = await ask(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.type, "error");
      assert.equal(res.body.error.type, "invalid_request_error");
      assert.match(res.body.error.message, message);
    }
    assert.equal(app.fake.requests.length, 0);
  });

  it("puts tool results before the rest of a user turn and documents as file parts", async () => {
    await ask({
      model: "medium_ai",
      max_tokens: 10,
      messages: [
        { role: "user", content: "read this" },
        { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "fetch", input: { a: 1 } }] },
        {
          role: "user",
          content: [
            { type: "text", text: "and this" },
            { type: "tool_result", tool_use_id: "t1", content: "failed", is_error: true },
            { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERi0=" } },
          ],
        },
      ],
    });
    const sent = app.fake.requests[0]?.body.messages as Array<Record<string, unknown>>;
    assert.deepEqual(sent[1], {
      role: "assistant",
      content: null,
      tool_calls: [{ id: "t1", type: "function", function: { name: "fetch", arguments: '{"a":1}' } }],
    });
    assert.deepEqual(sent[2], { role: "tool", content: "Error: failed", tool_call_id: "t1" });
    assert.deepEqual(sent[3]?.content, [
      { type: "text", text: "and this" },
      { type: "file", file: { file_data: "data:application/pdf;base64,JVBERi0=" } },
    ]);
  });

  it("ends a stream that fails after its first token with an error event", async () => {
    app.fake.respondWith(() => ({
      kind: "midstream-error",
      contentBefore: "partial",
      message: "provider crashed",
    }));
    const response = await fetch(`${app.t.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "medium_ai",
        max_tokens: 10,
        stream: true,
        messages: [{ role: "user", content: "hi" }],
      }),
    });
    assert.equal(response.status, 200);
    const blocks = (await response.text()).split("\n\n").filter((b) => b.startsWith("event: "));
    const last = blocks.at(-1) ?? "";
    assert.match(last, /^event: error\n/);
    assert.match(last, /provider crashed/);
    assert.ok(!blocks.some((b) => b.startsWith("event: message_stop")));
  });
});
