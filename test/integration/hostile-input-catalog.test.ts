import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { defaultModelList, type FakeOpenRouter, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { models } from "../support/responders.ts";
import { startTestApp, type TestApp, type TestResponse } from "../support/test-app.ts";

// Hostile input, round 2: the upstream's model list as an input (items 7 and 8), and what one client can
// see or evict of another's (items 10 and 11). Each block runs against a real server and the fake upstream.

const ask = (model: string, content = "hello") => ({ model, messages: [{ role: "user", content }] });
const chatCalls = (fake: FakeOpenRouter) => fake.requests.filter((r) => r.path.endsWith("/chat/completions"));
const listingOf = async (t: TestApp, role: string) =>
  (await t.get("/models")).body.models.find((m: { role: string }) => m.role === role);

// Upstream answers without a reported cost, as local servers give them: the service prices them itself.
const unpricedMillionTokens = () => ({
  kind: "text" as const,
  content: "hi",
  promptTokens: 1_000_000,
  completionTokens: 0,
  cost: null,
});

describe("hostile input: the live catalog's prices", () => {
  it("keeps the built-in price for a listed '1e300', and the call answers once, without a fallback", async () => {
    const fake = await startFakeOpenRouter();
    fake.models = defaultModelList().map((m) =>
      m.id === models.medium ? { ...m, pricing: { prompt: "1e300", completion: "1e300" } } : m,
    );
    fake.respondWith(unpricedMillionTokens);
    const t = await startTestApp({ fake });
    try {
      const res = await t.post("/v1/chat/completions", ask("medium_ai"));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.orchestrator.cost_usd, 0.1, "a million input tokens at the built-in $0.10");
      assert.equal(chatCalls(fake).length, 1, "one paid call, no fallback");
      assert.equal((await t.get("/metrics")).status, 200);
      assert.equal((await listingOf(t, "medium_ai")).pricing.input_per_million_usd, 0.1);

      // Logged once for the id, however often the list is read again.
      await t.app.models.catalog.refreshLive();
      const warnings = t.logs.filter((line) => line.includes(`listed price for ${models.medium}`));
      assert.equal(warnings.length, 1);
      assert.match(warnings[0] as string, /outside/);
    } finally {
      await t.close();
      await fake.close();
    }
  });

  it("keeps the built-in price for a listed '0' or '1e-20', so calls cost and budgets count", async () => {
    const fake = await startFakeOpenRouter();
    fake.models = defaultModelList().map((m) =>
      m.id === models.medium
        ? { ...m, pricing: { prompt: "0", completion: "0" } }
        : m.id === models.fast
          ? { ...m, pricing: { prompt: "1e-20", completion: "1e-20" } }
          : m,
    );
    fake.respondWith(unpricedMillionTokens);
    // $0.1755 a day: the two calls below spend $0.175, which leaves too little to reserve a 40,000-character
    // prompt at $0.10 per million tokens ($0.001). At a price of 0 nothing would ever be refused.
    const t = await startTestApp({
      fake,
      config: {
        budgets: { perDayUsd: 0.1755 },
        models: { medium_ai: { maxOutputTokens: 16 }, fast_ai: { maxOutputTokens: 16 } },
      },
    });
    try {
      assert.equal((await listingOf(t, "medium_ai")).pricing.input_per_million_usd, 0.1);
      assert.equal((await listingOf(t, "fast_ai")).pricing.input_per_million_usd, 0.075);
      const fast = await t.post("/v1/chat/completions", ask("fast_ai"));
      assert.equal(fast.status, 200);
      assert.equal(fast.body.orchestrator.cost_usd, 0.075, "a million tokens at the built-in $0.075");
      const medium = await t.post("/v1/chat/completions", ask("medium_ai"));
      assert.equal(medium.body.orchestrator.cost_usd, 0.1);
      const refused = await t.post("/v1/chat/completions", ask("medium_ai", "x ".repeat(20_000)));
      assert.equal(refused.status, 402, "the spend counted, so the daily budget holds");
      const logged = t.logs.join("");
      assert.match(
        logged,
        new RegExp(`listed price for ${models.medium}.*zero for a model that is not free`),
      );
      assert.match(logged, new RegExp(`listed price for ${models.fast}.*outside`));
    } finally {
      await t.close();
      await fake.close();
    }
  });

  it("drops a list past 16 MB unread and keeps the last good one, saying why", async () => {
    const fake = await startFakeOpenRouter();
    const t = await startTestApp({ fake });
    try {
      assert.equal((await t.get("/models")).body.catalog.source, "openrouter");
      // A list that is otherwise valid, with a (valid) new price that must not be taken from it.
      fake.models = defaultModelList().map((m) =>
        m.id === models.medium
          ? {
              ...m,
              pricing: { prompt: "0.0000002", completion: "0.0000004" },
              description: "x".repeat(17 * 1024 * 1024),
            }
          : m,
      );
      await t.app.models.catalog.refreshLive();
      const catalog = (await t.get("/models")).body.catalog;
      assert.equal(catalog.source, "openrouter", "the last list read stays in use");
      assert.match(catalog.note, /larger than 16777216 bytes/);
      assert.equal((await listingOf(t, "medium_ai")).pricing.input_per_million_usd, 0.1);
      assert.match(t.logs.join(""), /model catalog not refreshed/);
    } finally {
      await t.close();
      await fake.close();
    }
  });
});

const alice = "alice-key-0123456789abcdef";
const bob = "bob-key-0123456789abcdef-xyz";

async function send(t: TestApp, key: string, path: string, body: unknown): Promise<TestResponse> {
  return t.post(path, body, { authorization: `Bearer ${key}` });
}

describe("hostile input: what one client can see or evict of another's", () => {
  let fake: FakeOpenRouter;
  let t: TestApp;
  let answered = 0;

  before(async () => {
    fake = await startFakeOpenRouter();
    t = await startTestApp({ fake, config: { api_keys: { clients: [alice, bob] } } });
  });
  after(async () => {
    await t.close();
    await fake.close();
  });

  it("never answers one client from another's cached answer", async () => {
    fake.respondWith(() => ({ kind: "text", content: `answer ${++answered}` }));
    const secret = { ...ask("medium_ai", "alice's private question"), temperature: 0 };
    const first = await send(t, alice, "/v1/chat/completions", secret);
    assert.equal(first.status, 200);
    const again = await send(t, alice, "/v1/chat/completions", secret);
    assert.equal(again.headers.get("x-cache"), "HIT", "a client's own repeat is still cached");

    const probe = await send(t, bob, "/v1/chat/completions", secret);
    assert.equal(probe.status, 200);
    assert.equal(probe.headers.get("x-cache"), null, "bob's identical request is not a hit on alice's");
    assert.notEqual(probe.body.choices[0].message.content, first.body.choices[0].message.content);
  });

  it("lets a client that stores many large responses evict only its own", async () => {
    // 1.6 MB answers: 22 of them are more than the 32 MB a client may keep. Words, not one repeated
    // letter, which costs the token counter far longer when the conversation is continued.
    const big = "lorem ipsum ".repeat(133_334);
    fake.respondWith(() => ({ kind: "text", content: big }));
    const kept = await send(t, alice, "/v1/responses", { model: "medium_ai", input: "remember me" });
    assert.equal(kept.status, 200);

    const bobs: string[] = [];
    for (let i = 0; i < 22; i++) {
      const stored = await send(t, bob, "/v1/responses", { model: "medium_ai", input: `store ${i}` });
      assert.equal(stored.status, 200);
      bobs.push(stored.body.id);
    }

    fake.respondWith(() => ({ kind: "text", content: "continued" }));
    const continued = await send(t, alice, "/v1/responses", {
      model: "medium_ai",
      input: "and now?",
      previous_response_id: kept.body.id,
    });
    assert.equal(continued.status, 200, JSON.stringify(continued.body).slice(0, 300));

    // Bob's own quota is what gave way: his oldest response is gone, his newest is kept.
    const oldest = await send(t, bob, "/v1/responses", {
      model: "medium_ai",
      input: "and now?",
      previous_response_id: bobs[0],
    });
    assert.equal(oldest.status, 400);
    assert.match(JSON.stringify(oldest.body), /previous_response_id/);
    const newest = await send(t, bob, "/v1/responses", {
      model: "medium_ai",
      input: "and now?",
      previous_response_id: bobs.at(-1),
    });
    assert.equal(newest.status, 200);
  });
});
