import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RecordedRequest } from "../fakes/fake-openrouter.ts";
import { models, requestsTo } from "../support/responders.ts";
import { startTestApp } from "../support/test-app.ts";

const categorizeAsL = (request: RecordedRequest) =>
  request.body.model === models.categorizer ? ({ kind: "text", content: "L" } as const) : undefined;

describe("thinking models", () => {
  it("send the role's reasoning and size max_tokens so reasoning leaves the answer its room", async () => {
    const t = await startTestApp();
    try {
      t.fake?.respondWith(
        (request) =>
          categorizeAsL(request) ?? {
            kind: "text",
            content: "A considered answer.",
            reasoningTokens: 1200,
            completionTokens: 1210,
          },
      );
      const res = await t.post("/chat", { message: "Prove that there are infinitely many primes." });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const [sent] = requestsTo(t.fake?.requests ?? [], models.thinking);
      assert.deepEqual(sent?.body.reasoning, { effort: "medium", exclude: true });
      // maxOutputTokens 16384 for the answer; medium effort may spend half of max_tokens reasoning.
      assert.equal(sent?.body.max_tokens, 32768);
      assert.equal(res.body.usage.reasoning_tokens, 1200);
      const metrics = await fetch(`${t.url}/metrics`).then((r) => r.text());
      assert.match(metrics, /orchestrator_upstream_tokens_total\{[^}]*direction="reasoning"[^}]*\} 1200/);
    } finally {
      await t.close();
    }
  });

  it("ask again with twice the room when reasoning used all of it, and bill both tries", async () => {
    const t = await startTestApp();
    try {
      let tries = 0;
      t.fake?.respondWith((request) => {
        const routed = categorizeAsL(request);
        if (routed) return routed;
        // The documented failure: reasoning spends max_tokens, content is empty, finish_reason "length".
        return ++tries === 1
          ? {
              kind: "text",
              content: "",
              finishReason: "length",
              reasoningTokens: 32768,
              completionTokens: 32768,
              cost: 0.11,
            }
          : {
              kind: "text",
              content: "Here it is.",
              reasoningTokens: 900,
              completionTokens: 904,
              cost: 0.004,
            };
      });
      const res = await t.post("/chat", { message: "A very hard question" });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.response, "Here it is.");
      const sent = requestsTo(t.fake?.requests ?? [], models.thinking);
      assert.deepEqual(
        sent.map((r) => r.body.max_tokens),
        [32768, 65536],
      );
      assert.equal(res.body.usage.reasoning_tokens, 32768 + 900);
      assert.ok(res.body.usage.cost_usd >= 0.114, "the cut-off try was billed too");
    } finally {
      await t.close();
    }
  });

  it("never answer with a silent empty string: a clear error when even more room is not enough", async () => {
    const t = await startTestApp();
    try {
      t.fake?.respondWith(
        (request) =>
          categorizeAsL(request) ?? {
            kind: "text",
            content: "",
            finishReason: "length",
            reasoningTokens: 100,
            completionTokens: 100,
          },
      );
      const res = await t.post("/chat", { message: "An impossible question" });
      assert.equal(res.status, 502, JSON.stringify(res.body));
      assert.equal(res.body.error.code, "empty_answer");
      assert.match(res.body.error.message, /reasoning/);
      assert.equal(res.body.response, undefined);
    } finally {
      await t.close();
    }
  });

  it("report reasoning tokens on /v1/chat/completions where OpenAI does, streamed or not", async () => {
    const t = await startTestApp();
    try {
      t.fake?.respondWith(() => ({
        kind: "text",
        content: "Fine.",
        reasoningTokens: 300,
        completionTokens: 301,
      }));
      const body = { model: "thinking_ai", messages: [{ role: "user", content: "think" }] };
      const res = await t.post("/v1/chat/completions", body);
      assert.equal(res.body.usage.completion_tokens_details.reasoning_tokens, 300);
      const streamed = await fetch(`${t.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
      }).then((r) => r.text());
      const usage = streamed
        .split("\n\n")
        .filter((b) => b.startsWith("data: {"))
        .map((b) => JSON.parse(b.slice(6)))
        .find((c) => c.usage)?.usage;
      assert.equal(usage?.completion_tokens_details?.reasoning_tokens, 300);
    } finally {
      await t.close();
    }
  });

  it("give a streamed answer the same second try, since nothing was sent on yet", async () => {
    const t = await startTestApp();
    try {
      let tries = 0;
      t.fake?.respondWith(() =>
        ++tries === 1
          ? { kind: "text", content: "", finishReason: "length", reasoningTokens: 64, completionTokens: 64 }
          : { kind: "text", content: "Streamed at last.", reasoningTokens: 10, completionTokens: 14 },
      );
      const text = await fetch(`${t.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: "thinking_ai",
          stream: true,
          messages: [{ role: "user", content: "think hard" }],
        }),
      }).then((r) => r.text());
      const chunks = text
        .split("\n\n")
        .filter((b) => b.startsWith("data: {"))
        .map((b) => JSON.parse(b.slice(6)));
      assert.equal(chunks.map((c) => c.choices?.[0]?.delta?.content ?? "").join(""), "Streamed at last.");
      assert.equal(tries, 2);
    } finally {
      await t.close();
    }
  });
});
