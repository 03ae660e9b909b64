import assert from "node:assert/strict";
import { describe, it } from "node:test";
import OpenAI from "openai";
import { useFakeOpenRouterApp } from "../support/fake-openrouter-app.ts";
import { orchestrationResponder } from "../support/responders.ts";
import { startTestApp } from "../support/test-app.ts";

// Event wire format: https://platform.openai.com/docs/api-reference/responses-streaming
async function events(response: Response): Promise<Array<{ event: string; data: any }>> {
  return (await response.text())
    .split("\n\n")
    .filter((block) => block.startsWith("event: "))
    .map((block) => {
      const [eventLine, dataLine] = block.split("\n");
      return { event: eventLine?.slice(7) ?? "", data: JSON.parse(dataLine?.slice(6) ?? "null") };
    });
}

describe("POST /v1/responses", () => {
  const app = useFakeOpenRouterApp({
    respond: () => ({ kind: "text", content: "hello there", chunkSize: 3 }),
  });

  const post = (body: unknown) =>
    fetch(`${app.t.url}/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  it("streams events named as their type, numbered in order, with consistent item ids", async () => {
    const list = await events(await post({ model: "medium_ai", input: "hi", stream: true }));
    for (const [index, { event, data }] of list.entries()) {
      assert.equal(data.type, event);
      assert.equal(data.sequence_number, index);
    }
    const added = list.find((e) => e.event === "response.output_item.added")?.data;
    const deltas = list.filter((e) => e.event === "response.output_text.delta").map((e) => e.data);
    assert.ok(deltas.length > 1);
    for (const delta of deltas) assert.equal(delta.item_id, added.item.id);
    const completed = list.at(-1)?.data.response;
    assert.equal(completed.status, "completed");
    assert.equal(completed.output[0].id, added.item.id);
    assert.equal(completed.output[0].content[0].text, "hello there");
    assert.match(completed.id, /^resp_/);
    assert.equal(list[0]?.data.response.id, completed.id);
  });

  it("reports a failure after the first token as an error event, one before it with its status", async () => {
    app.fake.respondWith(() => ({
      kind: "midstream-error",
      contentBefore: "partial",
      message: "provider crashed",
    }));
    const list = await events(await post({ model: "medium_ai", input: "hi", stream: true }));
    const last = list.at(-1);
    assert.equal(last?.event, "error");
    assert.match(last?.data.message, /provider crashed/);
    assert.ok(!list.some((e) => e.event === "response.completed"));

    app.fake.respondWith(() => ({ kind: "error", status: 400, message: "bad prompt" }));
    const refused = await post({ model: "medium_ai", input: "hi", stream: true });
    assert.equal(refused.status, 502);
    assert.match(((await refused.json()) as { error: { message: string } }).error.message, /bad prompt/);
  });

  it("waits for an H request's workflow, plain and streamed, as chat completions do", async () => {
    app.fake.respondWith(orchestrationResponder({ finalAnswer: "THE RESULT" }));
    const plain = await app.client.responses.create({ model: "auto", input: "big project" });
    assert.equal(plain.output_text, "On it.\n\nTHE RESULT");
    const list = await events(await post({ model: "auto", input: "big project", stream: true }));
    const text = list
      .filter((e) => e.event === "response.output_text.delta")
      .map((e) => e.data.delta)
      .join("");
    assert.equal(text, "On it.\n\nTHE RESULT");
    assert.equal(list.at(-1)?.event, "response.completed");
  });

  it("marks an answer cut off by max_output_tokens as incomplete", async () => {
    app.fake.respondWith(() => ({ kind: "text", content: "cut", finishReason: "length" }));
    const reply = await app.client.responses.create({
      model: "medium_ai",
      input: "hi",
      max_output_tokens: 1,
    });
    assert.equal(reply.status, "incomplete");
    assert.deepEqual(reply.incomplete_details, { reason: "max_output_tokens" });
  });

  it("refuses what it cannot honour with a 400 naming the field", async () => {
    const cases: Array<[unknown, string]> = [
      [{ model: "medium_ai" }, "input"],
      [{ model: "medium_ai", input: "hi", tools: [{ type: "web_search" }] }, "tools[0].type"],
      [{ model: "medium_ai", input: "hi", previous_response_id: "resp_unknown" }, "previous_response_id"],
      [{ model: "medium_ai", input: [{ type: "item_reference", id: "msg_unknown" }] }, "input[0].id"],
      [
        {
          model: "medium_ai",
          input: [{ role: "user", content: [{ type: "input_image", image_url: "file:///etc/passwd" }] }],
        },
        "input[0].content[0].image_url",
      ],
      [{ model: "medium_ai", input: "hi", text: { format: { type: "json_schema" } } }, "text.format.name"],
    ];
    for (const [body, field] of cases) {
      const res = await app.t.post("/v1/responses", body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.param, field, JSON.stringify(res.body));
    }
    assert.equal(app.fake.requests.length, 0, "nothing refused reached the upstream");
  });

  it("continues a stored response, refers to its items, and keeps nothing with store: false", async () => {
    const first = await app.client.responses.create({ model: "medium_ai", input: "my name is Ada" });
    const message = first.output[0];
    assert.equal(message?.type, "message");
    await app.client.responses.create({
      model: "medium_ai",
      previous_response_id: first.id,
      input: "my name?",
    });
    assert.deepEqual(
      app.fake.requests.at(-1)?.body.messages.map((m) => [m.role, m.content]),
      [
        ["user", "my name is Ada"],
        ["assistant", "hello there"],
        ["user", "my name?"],
      ],
    );
    await app.client.responses.create({
      model: "medium_ai",
      input: [
        { role: "user", content: "my name is Ada" },
        { type: "item_reference", id: message?.id ?? "" },
        { role: "user", content: "my name?" },
      ],
    });
    assert.equal(app.fake.requests.at(-1)?.body.messages[1]?.content, "hello there");
    const unstored = await app.client.responses.create({ model: "medium_ai", input: "secret", store: false });
    const res = await app.t.post("/v1/responses", {
      model: "medium_ai",
      input: "hi",
      previous_response_id: unstored.id,
    });
    assert.equal(res.status, 400);
  });
});

describe("stored responses with client keys", () => {
  it("can be continued only by the client that made them", async () => {
    const [alice, bob] = ["sk-alice-key-000000000000", "sk-bob-key-00000000000000"];
    const t = await startTestApp({ config: { api_keys: { clients: [alice, bob] } } });
    try {
      t.fake?.respondWith(() => ({ kind: "text", content: "noted" }));
      const as = (key: string) => new OpenAI({ apiKey: key, baseURL: `${t.url}/v1`, maxRetries: 0 });
      const first = await as(alice).responses.create({ model: "medium_ai", input: "my secret is 42" });
      const item = first.output[0]?.id ?? "";
      await as(alice).responses.create({ model: "medium_ai", previous_response_id: first.id, input: "and?" });
      await assert.rejects(
        as(bob).responses.create({ model: "medium_ai", previous_response_id: first.id, input: "and?" }),
        (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === "previous_response_id",
      );
      await assert.rejects(
        as(bob).responses.create({ model: "medium_ai", input: [{ type: "item_reference", id: item }] }),
        OpenAI.BadRequestError,
      );
    } finally {
      await t.close();
    }
  });
});
