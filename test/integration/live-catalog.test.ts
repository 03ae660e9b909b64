import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseModelList } from "../../src/models/live-catalog.ts";
import { defaultModelList, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { models } from "../support/responders.ts";
import { startTestApp } from "../support/test-app.ts";

const ask = { model: "medium_ai", messages: [{ role: "user", content: "hello" }] };

describe("the live model catalog (OpenRouter's GET /models)", () => {
  it("prices calls and sizes windows from the upstream's list, for roles that do not set their own", async () => {
    const fake = await startFakeOpenRouter();
    fake.models = defaultModelList().map((m) =>
      m.id === models.medium
        ? { ...m, pricing: { prompt: "0.0000002", completion: "0.0000004" }, context_length: 65536 }
        : m,
    );
    // No usage.cost in the answers: the service prices them itself.
    fake.respondWith(() => ({
      kind: "text",
      content: "hi",
      promptTokens: 1_000_000,
      completionTokens: 0,
      cost: null,
    }));
    const t = await startTestApp({ fake });
    try {
      const res = await t.post("/v1/chat/completions", ask);
      assert.equal(res.status, 200);
      assert.equal(
        res.body.orchestrator.cost_usd,
        0.2,
        "$0.20 per million from the list, not the built-in $0.10",
      );
      const listing = await t.get("/models");
      const medium = listing.body.models.find((m: { role: string }) => m.role === "medium_ai");
      assert.equal(medium.pricing.input_per_million_usd, 0.2);
      assert.equal(medium.context_window, 65536);
      assert.equal(listing.body.catalog.source, "openrouter");
    } finally {
      await t.close();
      await fake.close();
    }
  });

  it("keeps a role's own configured price", async () => {
    const fake = await startFakeOpenRouter();
    fake.models = defaultModelList().map((m) =>
      m.id === models.medium ? { ...m, pricing: { prompt: "0.0000002", completion: "0.0000004" } } : m,
    );
    fake.respondWith(() => ({
      kind: "text",
      content: "hi",
      promptTokens: 1_000_000,
      completionTokens: 0,
      cost: null,
    }));
    const t = await startTestApp({
      fake,
      config: { models: { medium_ai: { pricing: { inputPerMillion: 0.5, outputPerMillion: 1 } } } },
    });
    try {
      const res = await t.post("/v1/chat/completions", ask);
      assert.equal(res.body.orchestrator.cost_usd, 0.5);
    } finally {
      await t.close();
      await fake.close();
    }
  });

  it("shows in /models and /health, and logs, every configured model that is gone or going", async () => {
    const fake = await startFakeOpenRouter();
    fake.models = defaultModelList()
      .filter((m) => m.id !== "meta-llama/llama-3.1-70b-instruct")
      .map((m) => (m.id === models.fast ? { ...m, expiration_date: "2026-12-15" } : m));
    const t = await startTestApp({ fake });
    try {
      const expected = [
        { model: models.fast, roles: ["fast_ai"], status: "expiring", expiration_date: "2026-12-15" },
        { model: "meta-llama/llama-3.1-70b-instruct", roles: ["medium_ai"], status: "not_listed" },
      ];
      const sort = (list: Array<{ model: string }>) =>
        [...list].sort((a, b) => a.model.localeCompare(b.model));
      assert.deepEqual(sort((await t.get("/models")).body.catalog.retiring_models), sort(expected));
      assert.deepEqual(sort((await t.get("/health")).body.models.retiring_models), sort(expected));
      const logged = t.logs.join("");
      assert.match(logged, /is to be retired on 2026-12-15/);
      assert.match(logged, /meta-llama\/llama-3\.1-70b-instruct is no longer listed/);

      // A refresh reads the list again: the retirement is gone once the upstream drops the date.
      fake.models = defaultModelList();
      await t.app.models.catalog.refreshLive();
      assert.deepEqual((await t.get("/models")).body.catalog.retiring_models, []);
    } finally {
      await t.close();
      await fake.close();
    }
  });

  it("uses the built-in table and says so when the list cannot be read, or offline", async () => {
    const fake = await startFakeOpenRouter();
    fake.modelsFailure = "catalog temporarily unavailable";
    const t = await startTestApp({ fake });
    try {
      const catalog = (await t.get("/models")).body.catalog;
      assert.equal(catalog.source, "built-in");
      assert.match(catalog.note, /could not be read/);
      const medium = (await t.get("/models")).body.models.find(
        (m: { role: string }) => m.role === "medium_ai",
      );
      assert.equal(medium.pricing.input_per_million_usd, 0.1);
    } finally {
      await t.close();
      await fake.close();
    }
    const offline = await startTestApp({ mode: "offline" });
    try {
      const catalog = (await offline.get("/health")).body.models;
      assert.equal(catalog.source, "built-in");
      assert.match(catalog.note, /offline/);
    } finally {
      await offline.close();
    }
  });

  it("reads prices per token, tolerating what it does not use", () => {
    const listed = parseModelList({
      data: [
        { id: "a/b", pricing: { prompt: "0.0000006", completion: "0.0000025" }, context_length: 262144 },
        { id: "c/d", pricing: { prompt: "-1", completion: "-1" }, expiration_date: "2027-01-01" },
        { name: "no id" },
      ],
    });
    assert.deepEqual(
      listed.map((m) => [m.id, m.pricing, m.contextLength, m.expirationDate]),
      [
        ["a/b", { inputPerMillion: 0.6, outputPerMillion: 2.5 }, 262144, undefined],
        ["c/d", undefined, undefined, "2027-01-01"],
      ],
    );
    assert.throws(() => parseModelList({ models: [] }), /no data array/);
  });
});
