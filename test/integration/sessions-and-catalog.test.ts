import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { models, routingResponder } from "../support/responders.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

describe("sessions, warm-ups and the catalog endpoints", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
    t.fake?.respondWith(routingResponder("M"));
  });
  after(() => t.close());

  it("POST /sessions opens a session and warms up the categorizer and fast models", async () => {
    const res = await t.post("/sessions", {});
    assert.equal(res.status, 201);
    assert.match(res.body.session_id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(res.body.warmup, { roles: ["categorizer_ai", "fast_ai"], status: "started" });
    await t.app.sessions.settled();
    const warmed = (t.fake?.requests ?? []).map((r) => r.body.model).sort();
    assert.deepEqual(warmed, [models.categorizer, models.fast].sort());
    for (const request of t.fake?.requests ?? []) {
      assert.match(JSON.stringify(request.body.messages), /Warm-up/);
      assert.ok((request.body.max_tokens as number) <= 4);
    }
    const session = await t.get(`/sessions/${res.body.session_id}`);
    assert.equal(session.status, 200);
    assert.deepEqual(session.body.messages, []);
  });

  it("GET /health reports live mode, version and uptime", async () => {
    const res = await t.get("/health");
    assert.equal(res.status, 200);
    assert.equal(res.body.status, "ok");
    assert.equal(res.body.mode, "live");
    assert.equal(res.body.provider, "openrouter");
    assert.match(res.body.version, /^\d+\.\d+\.\d+/);
    assert.equal(typeof res.body.uptime_seconds, "number");
  });

  it("GET /models lists roles with model ids, prices and fallbacks, and the aliases", async () => {
    const res = await t.get("/models");
    const byRole = new Map(res.body.models.map((m: { role: string }) => [m.role, m]));
    const fast = byRole.get("fast_ai") as Record<string, any>;
    assert.equal(fast.model, models.fast);
    assert.equal(fast.pricing.input_per_million_usd, 0.075);
    assert.ok(Array.isArray(fast.fallbacks));
    assert.ok(byRole.has("image_generation_ai"));
    assert.ok(byRole.has("video_generation_ai"));
    assert.equal(res.body.aliases.research_ai, "thinking_ai");
  });

  it("GET /addons lists the 50 addons with name, category, description and prompt", async () => {
    const res = await t.get("/addons");
    assert.equal(res.body.count, 50);
    for (const addon of res.body.addons) {
      assert.deepEqual(Object.keys(addon).sort(), ["category", "description", "name", "prompt"]);
    }
    const marketing = await t.get("/addons?category=marketing");
    assert.ok(marketing.body.addons.some((a: { name: string }) => a.name === "ad_copy"));
    assert.ok(marketing.body.addons.every((a: { category: string }) => a.category === "marketing"));
  });
});
