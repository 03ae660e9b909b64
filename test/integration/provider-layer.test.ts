import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startFakeGoogleAi } from "../fakes/fake-google-ai.ts";
import { eventually } from "../support/eventually.ts";
import { models, requestsTo, routingResponder } from "../support/responders.ts";
import { startTestApp } from "../support/test-app.ts";

describe("one provider layer: every upstream call through one guard", () => {
  it("a media call aborted while it waits for a slot leaves no circuit half-open behind", async () => {
    const google = await startFakeGoogleAi();
    const t = await startTestApp({
      google,
      config: {
        queuing: { maxConcurrentCallsPerModel: 1 },
        errorHandling: {
          circuitBreaker: { failureThreshold: 1, timeoutSeconds: 0.1 },
          retry: { baseDelayMs: 1, maxDelayMs: 4, maxAttempts: { transient: 1 } },
        },
      },
    });
    try {
      const { media, models: client } = t.app;
      const imageModel = client.resolve("image_generation_ai").definition.model;
      const breaker = () => client.resilience.breakers.for(imageModel).snapshot().state;
      const deadline = () => Date.now() + 10_000;
      google.enqueueFault({ status: 503, message: "overloaded" });
      await assert.rejects(media.generate("image_generation_ai", "a cat", { deadline: deadline() }), {
        code: "upstream_unavailable",
      });
      await eventually("the breaker to half-open", async () =>
        breaker() === "half_open" ? true : undefined,
      );

      const holdSlot = await client.resilience.scheduler.acquire(imageModel, "high");
      const controller = new AbortController();
      const waiting = media.generate("image_generation_ai", "a dog", {
        deadline: deadline(),
        signal: controller.signal,
      });
      await eventually("the call to wait for a slot", async () =>
        client.resilience.scheduler.stats().waiting.medium === 1 ? true : undefined,
      );
      controller.abort(new Error("the workflow was cancelled"));
      await assert.rejects(waiting, { code: "cancelled" });
      holdSlot();

      const made = await media.generate("image_generation_ai", "a bird", { deadline: deadline() });
      assert.equal(made.contentType, "image/png");
      assert.equal(breaker(), "closed");
    } finally {
      await t.close();
      await google.close();
    }
  });

  it("one client's bad requests do not open the circuit for everyone else", async () => {
    const t = await startTestApp();
    try {
      t.fake?.respondWith((request) =>
        request.body.tools
          ? { kind: "error", status: 400, message: "Invalid schema for function 'f'" }
          : routingResponder("M")(request),
      );
      const bad = {
        model: "medium_ai",
        messages: [{ role: "user", content: "hi" }],
        tools: [{ type: "function", function: { name: "f", parameters: { type: "nope" } } }],
      };
      for (let i = 0; i < 8; i++) {
        const res = await t.post("/v1/chat/completions", bad);
        assert.equal(res.status, 502);
        assert.equal(res.body.error.code, "upstream_bad_request");
      }
      const other = await t.post("/chat", { message: "what is the capital of France?" });
      assert.equal(other.status, 200, JSON.stringify(other.body));
      assert.match(other.body.response, new RegExp(`answer from ${models.medium}`));
      const states = (await t.get("/stats")).body;
      assert.ok(!JSON.stringify(states).includes('"open"'), "no circuit opened");
    } finally {
      await t.close();
    }
  });

  it("prices a fallback's answer at the fallback's price, not the primary's", async () => {
    const t = await startTestApp();
    try {
      const fallback = "meta-llama/llama-3.1-70b-instruct";
      t.fake?.respondWith((request) => {
        if (request.body.model === models.categorizer) return { kind: "text", content: "M", cost: 0 };
        if (request.body.model === models.medium)
          return { kind: "error", status: 503, message: "overloaded" };
        return {
          kind: "text",
          content: "from the fallback",
          promptTokens: 1_000_000,
          completionTokens: 0,
          cost: null,
        };
      });
      const res = await t.post("/chat", { message: "hello there" });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.model, fallback);
      assert.ok(requestsTo(t.fake?.requests ?? [], fallback).length > 0);
      // llama-3.1-70b's list price is $0.40 per million input tokens; the primary's is $0.10.
      assert.ok(Math.abs(res.body.usage.cost_usd - 0.4) < 1e-9, `cost ${res.body.usage.cost_usd}`);
    } finally {
      await t.close();
    }
  });

  it("bounds the model ids breakers, rate limits, /stats and /metrics keep: the rest are 'other'", async () => {
    const t = await startTestApp({ config: { monitoring: { maxTrackedModels: 3 } } });
    try {
      t.fake?.respondWith((request) =>
        request.body.model.startsWith("junk/")
          ? { kind: "error", status: 404, message: `No endpoints found for ${request.body.model}` }
          : { kind: "text", content: `hi from ${request.body.model}` },
      );
      const ask = (model: string) =>
        t.post("/v1/chat/completions", { model, messages: [{ role: "user", content: "hi" }] });
      for (let i = 0; i < 60; i++) assert.equal((await ask(`junk/model-${i}`)).status, 502);
      // Each real id twice: it earns its key by answering, and uses it from the next call on.
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 5; i++) assert.equal((await ask(`real/model-${i}`)).status, 200);
      }

      const { breakers } = t.app.models.resilience;
      const keys = breakers.snapshots().map((b) => b.key);
      assert.ok(!keys.some((key) => key.startsWith("junk/")), `no breaker per junk id: ${keys.join(", ")}`);
      assert.deepEqual(
        keys.filter((key) => key.startsWith("real/")),
        ["real/model-0", "real/model-1", "real/model-2"],
        "the first three that answered earn their own breaker; the rest share 'other'",
      );
      assert.ok(keys.includes("other"));

      const metrics = await fetch(`${t.url}/metrics`).then((r) => r.text());
      assert.ok(!metrics.includes("junk/"), "no metrics series per junk id");
      assert.ok(!metrics.includes('model="real/model-4"'));
      assert.match(metrics, /model="other"/);

      const stats = (await t.get("/stats")).body;
      const statModels: string[] = stats.models.map((m: { model: string }) => m.model);
      assert.ok(!statModels.some((model) => model.startsWith("junk/")), statModels.join(", "));
      assert.ok(statModels.filter((model) => model.startsWith("real/")).length <= 3);
      const other = stats.models.find((m: { model: string }) => m.model === "other");
      assert.equal(other.calls, 60 + 2 * 2);
    } finally {
      await t.close();
    }
  });

  it("a /chat stream cut off with neither [DONE] nor a finish_reason fails and is not stored as complete", async () => {
    const t = await startTestApp();
    try {
      t.fake?.respondWith((request) =>
        request.body.model === models.categorizer
          ? { kind: "text", content: "M" }
          : { kind: "truncated", contentBefore: "The first half of an answer" },
      );
      const response = await fetch(`${t.url}/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "tell me everything", stream: true }),
      });
      const blocks = (await response.text()).split("\n\n").filter((b) => b.startsWith("data: "));
      const events = blocks
        .map((b) => b.slice(6))
        .filter((d) => d !== "[DONE]")
        .map((d) => JSON.parse(d));
      const failure = events.find((e) => e.error);
      assert.equal(failure?.error.code, "upstream_truncated", JSON.stringify(events.at(-1)));
      const sessionId = events[0].orchestrator.session_id;
      const history = await t.get(`/sessions/${sessionId}`);
      const stored = (history.body.messages ?? []).map((m: { role: string; content: string }) => m.content);
      assert.ok(!stored.includes("The first half of an answer"), `stored: ${JSON.stringify(stored)}`);
    } finally {
      await t.close();
    }
  });
});
