import assert from "node:assert/strict";
import { describe, it } from "node:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { type FakeReply, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { useFakeOpenRouterApp } from "../support/fake-openrouter-app.ts";
import { models, routingResponder } from "../support/responders.ts";
import { startTestApp } from "../support/test-app.ts";

const mediumFallback = "meta-llama/llama-3.1-70b-instruct";
const fromThinking = new RegExp(`answer from ${models.thinking.replace(/[.]/g, "\\.")}`);

// The medium model (and its fallback) answers `medium`; everyone else answers as the routing responder does.
function mediumAnswers(medium: FakeReply, category = "M") {
  const others = routingResponder(category);
  return (request: Parameters<typeof others>[0]) =>
    request.body.model === models.medium || request.body.model === mediumFallback ? medium : others(request);
}

function sseChunks(text: string): any[] {
  return text
    .split("\n\n")
    .filter((block) => block.startsWith("data: ") && block !== "data: [DONE]")
    .map((block) => JSON.parse(block.slice(6)));
}

describe("escalation of unusable answers", () => {
  const app = useFakeOpenRouterApp({ clearEachTest: true });

  it("answers an empty M answer again with the thinking model, and says so in the response, session and stats", async () => {
    app.fake.respondWith(
      mediumAnswers({ kind: "text", content: "", promptTokens: 100, completionTokens: 0, cost: 0.0001 }),
    );
    const res = await app.t.post("/chat", { message: "What is a heat pump?" });
    assert.equal(res.status, 200);
    assert.equal(res.body.category, "M");
    assert.equal(res.body.model, models.thinking);
    assert.equal(res.body.role, "thinking_ai");
    assert.match(res.body.response, fromThinking);
    assert.deepEqual(res.body.routing.escalated, {
      from_role: "medium_ai",
      from_model: models.medium,
      reason: "empty",
    });
    assert.deepEqual(
      app.fake.requests.map((r) => r.body.model),
      [models.categorizer, models.medium, models.thinking],
    );
    // The wasted call is part of what the request cost.
    assert.equal(res.body.usage.cost_usd, 0.000001 + 0.0001 + 0.0002);

    const session = await app.t.get(`/sessions/${res.body.session_id}`);
    const stored = session.body.messages.at(-1);
    assert.equal(stored.model, models.thinking);
    assert.match(stored.content, /answer from moonshotai/);

    const stats = await app.t.get("/stats?since=all");
    assert.equal(stats.body.requests.escalated.total, 1);
    assert.deepEqual(stats.body.requests.escalated.by_reason, { empty: 1 });
    const metrics = parsePrometheusTextFormat((await app.t.get("/metrics")).body as string);
    const escalations = metrics.find((m) => m.name === "orchestrator_escalations_total");
    assert.deepEqual(
      escalations?.metrics.map((m: any) => [m.labels.reason, m.value]),
      [["empty", "1"]],
    );
  });

  it("escalates an answer emptied by the output limit, also when the model client gives up on it as empty", async () => {
    // A thinking-style medium model: all the room goes to reasoning, every time it is asked. Whether the
    // model client passes the empty answer on or fails it as empty_answer, the thinking model answers.
    app.fake.respondWith(
      mediumAnswers({ kind: "text", content: "", finishReason: "length", completionTokens: 50 }),
    );
    const res = await app.t.post("/chat", { message: "Think hard about heat pumps" });
    assert.equal(res.status, 200);
    assert.equal(res.body.model, models.thinking);
    assert.deepEqual(res.body.routing.escalated, {
      from_role: "medium_ai",
      from_model: models.medium,
      reason: "empty",
    });
  });

  it("escalates an answer cut off by the output limit, and a refusal", async () => {
    app.fake.respondWith(
      mediumAnswers({ kind: "text", content: "The three reasons are: first,", finishReason: "length" }),
    );
    const cut = await app.t.post("/chat", { message: "Give me three reasons" });
    assert.equal(cut.body.model, models.thinking);
    assert.equal(cut.body.routing.escalated.reason, "length");

    app.fake.respondWith(mediumAnswers({ kind: "text", content: "I'm sorry, but I can't help with that." }));
    const refused = await app.t.post("/chat", { message: "Explain how vaccines work" });
    assert.equal(refused.body.model, models.thinking);
    assert.equal(refused.body.routing.escalated.reason, "refusal");
  });

  it("escalates text that is not JSON when the client asked for JSON, and passes the format on", async () => {
    app.fake.respondWith(mediumAnswers({ kind: "text", content: 'Sure! {"ok": true}' }));
    const res = await app.t.post("/v1/chat/completions", {
      model: "auto",
      messages: [{ role: "user", content: "Reply with a JSON object" }],
      response_format: { type: "json_object" },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.model, models.thinking);
    assert.equal(res.body.orchestrator.routing.escalated.reason, "invalid_json");
    const toThinking = app.fake.requests.find((r) => r.body.model === models.thinking);
    assert.deepEqual(toThinking?.body.response_format, { type: "json_object" });

    // The same text without a JSON request is a fine answer.
    app.fake.clear();
    const plain = await app.t.post("/v1/chat/completions", {
      model: "auto",
      messages: [{ role: "user", content: "Reply with a JSON object" }],
    });
    assert.equal(plain.body.model, models.medium);
    assert.equal(plain.body.orchestrator.routing.escalated, undefined);
  });

  it("escalates an empty streamed answer, since none of it reached the client", async () => {
    app.fake.respondWith(mediumAnswers({ kind: "text", content: "" }));
    const res = await fetch(`${app.t.url}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "What is a heat pump?", stream: true }),
    });
    const chunks = sseChunks(await res.text());
    const text = chunks.map((c) => c.choices?.[0]?.delta?.content ?? "").join("");
    assert.match(text, fromThinking);
    const last = chunks.at(-1);
    assert.equal(last.orchestrator.model, models.thinking);
    assert.equal(last.orchestrator.routing.escalated.reason, "empty");
  });

  it("does not replace a streamed answer whose text the client already has", async () => {
    app.fake.respondWith(
      mediumAnswers({ kind: "text", content: "Cut off in the midd", finishReason: "length" }),
    );
    const res = await fetch(`${app.t.url}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "Tell me a story", stream: true }),
    });
    const last = sseChunks(await res.text()).at(-1);
    assert.equal(last.orchestrator.model, models.medium);
    assert.equal(last.orchestrator.routing.escalated, undefined);
    assert.equal(app.fake.requests.filter((r) => r.body.model === models.thinking).length, 0);
  });

  it("leaves alone answers with no stronger role: L answers and roles the client named", async () => {
    app.fake.respondWith((request) =>
      request.body.model === models.categorizer
        ? { kind: "text", content: "L" }
        : { kind: "text", content: "" },
    );
    const l = await app.t.post("/chat", { message: "Prove it" });
    assert.equal(l.body.model, models.thinking);
    assert.equal(l.body.routing.escalated, undefined);
    assert.equal(app.fake.requests.length, 2);

    app.fake.clear();
    app.fake.respondWith(() => ({ kind: "text", content: "" }));
    const named = await app.t.post("/v1/chat/completions", {
      model: "medium_ai",
      messages: [{ role: "user", content: "Hello" }],
    });
    assert.equal(named.body.model, models.medium);
    assert.equal(app.fake.requests.length, 1);
  });
});

describe("escalation turned off", () => {
  it("returns the routed answer as it is", async () => {
    const fake = await startFakeOpenRouter({ responder: mediumAnswers({ kind: "text", content: "" }) });
    const t = await startTestApp({ fake, config: { routing: { escalation: { enabled: false } } } });
    try {
      const res = await t.post("/chat", { message: "What is a heat pump?" });
      assert.equal(res.body.model, models.medium);
      assert.equal(res.body.routing.escalated, undefined);
    } finally {
      await t.close();
      await fake.close();
    }
  });
});
