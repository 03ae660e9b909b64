import assert from "node:assert/strict";
import { describe, it } from "node:test";
import OpenAI from "openai";
import { useFakeOpenRouterApp } from "../support/fake-openrouter-app.ts";
import { models } from "../support/responders.ts";

const mediumFallback = "meta-llama/llama-3.1-70b-instruct";

describe("streamed completions hold the response until the answer starts", () => {
  const app = useFakeOpenRouterApp({
    config: { errorHandling: { circuitBreaker: { failureThreshold: 1000 } } },
    clearEachTest: true,
  });

  it("answers an upstream failure before the first token with its HTTP status, as the SDK's typed error", async () => {
    app.fake.respondWith(() => ({ kind: "error", status: 401, message: "User not found." }));
    await assert.rejects(
      app.client.chat.completions.create({
        model: "medium_ai",
        messages: [{ role: "user", content: "hi" }],
        stream: true,
      }),
      (error: unknown) =>
        error instanceof OpenAI.InternalServerError &&
        error.status === 502 &&
        /User not found/.test(error.message),
    );
    app.fake.respondWith(() => ({ kind: "error", status: 503, message: "overloaded" }));
    const response = await fetch(`${app.t.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "medium_ai", messages: [{ role: "user", content: "hi" }], stream: true }),
    });
    assert.equal(response.status, 503);
    assert.match(response.headers.get("content-type") ?? "", /application\/json/);
    const body = (await response.json()) as { error: { message: string; retryable: boolean } };
    assert.match(body.error.message, /overloaded/);
    assert.equal(body.error.retryable, true);
  });

  it("names the fallback that answers in the chunks and the header, not the role's own model", async () => {
    app.fake.respondWith((request) =>
      request.body.model === models.medium
        ? { kind: "error", status: 500, message: "primary down" }
        : { kind: "text", content: "from the fallback", chunkSize: 5 },
    );
    const { data: stream, response } = await app.client.chat.completions
      .create({ model: "medium_ai", messages: [{ role: "user", content: "hi" }], stream: true })
      .withResponse();
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-orchestrator-model"), mediumFallback);
    let text = "";
    const chunkModels = new Set<string>();
    for await (const chunk of stream) {
      chunkModels.add(chunk.model);
      text += chunk.choices[0]?.delta.content ?? "";
    }
    assert.equal(text, "from the fallback");
    assert.deepEqual([...chunkModels], [mediumFallback]);
  });

  it("with include_usage, carries usage: null on every chunk before the usage chunk", async () => {
    app.fake.respondWith(() => ({ kind: "text", content: "one two three", chunkSize: 4 }));
    const response = await fetch(`${app.t.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "medium_ai",
        messages: [{ role: "user", content: "hi" }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    });
    const chunks = (await response.text())
      .split("\n\n")
      .filter((block) => block.startsWith("data: {"))
      .map((block) => JSON.parse(block.slice(6)));
    assert.ok(chunks.length > 3);
    for (const chunk of chunks.slice(0, -1)) {
      assert.ok("usage" in chunk && chunk.usage === null, JSON.stringify(chunk));
    }
    assert.equal(chunks.at(-1).usage.total_tokens > 0, true);
    const plain = await fetch(`${app.t.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "medium_ai", messages: [{ role: "user", content: "hi" }], stream: true }),
    });
    const first = (await plain.text()).split("\n\n")[0] ?? "";
    assert.ok(!first.includes('"usage"'), "without include_usage there is no usage field");
  });
});
