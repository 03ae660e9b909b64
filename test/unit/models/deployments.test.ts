import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { parseConfig } from "../../../src/config/index.ts";
import { OrchestratorError } from "../../../src/core/errors.ts";
import { checkDeploymentProviders, weightedOrder } from "../../../src/models/deployments.ts";
import { ModelCatalog } from "../../../src/models/model-catalog.ts";
import type { ModelClient, RoleCall, RoleCallResult } from "../../../src/models/model-client.ts";
import { createResilience } from "../../../src/resilience/resilience.ts";
import { routerKnowledge } from "../../../src/routing/router-knowledge.ts";
import { Metrics } from "../../../src/telemetry/metrics.ts";
import { fail, InMemoryChatProvider, text } from "../../support/in-memory-provider.ts";
import { type InMemoryServices, inMemoryServices } from "../../support/in-memory-services.ts";
import { ledgerEntry } from "../../support/upstream-call.ts";

// A small seeded generator (mulberry32): the same draws every run.
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const model = "meta-llama/llama-3.3-70b-instruct";
const question: RoleCall = { messages: [{ role: "user", content: "What is 2+2?" }], purpose: "answer" };
const transient = () =>
  new OrchestratorError({ kind: "transient", code: "upstream_unavailable", status: 503, message: "down" });

// A role on two providers at 3:1: the same model id on "local" and on OpenRouter, so that only the provider
// tells the two deployments apart.
function poolConfig(extra: Record<string, unknown> = {}) {
  return {
    models: {
      pool_ai: {
        // The first is the role's own model, and OpenRouter the provider its fallbacks run on.
        deployments: [
          {
            provider: "openrouter",
            model,
            weight: 1,
            pricing: { inputPerMillion: 0.1, outputPerMillion: 0.3 },
          },
          { provider: "local", model, weight: 3, pricing: { inputPerMillion: 0, outputPerMillion: 0 } },
        ],
        fallbacks: ["openai/gpt-oss-20b"],
        maxOutputTokens: 512,
      },
    },
    ...extra,
  };
}

// Makes the same role call whole or streamed: deployments behave alike in both.
const ways: Record<string, (models: ModelClient, call: RoleCall) => Promise<RoleCallResult>> = {
  call: (models, call) => models.call("pool_ai", call),
  stream: async (models, call) => {
    let streamed = "";
    for await (const event of models.stream("pool_ai", call)) {
      if (event.type === "delta") streamed += event.text;
      if (event.type === "done") {
        assert.equal(streamed, event.result.content);
        return event.result;
      }
    }
    throw new Error("the stream ended without a result");
  },
};

describe("weightedOrder", () => {
  it("puts each item first its weight's share of the time, within the binomial's spread", () => {
    const items = [
      { name: "a", weight: 3 },
      { name: "b", weight: 1 },
    ];
    const random = seeded(7);
    const draws = 10_000;
    let first = 0;
    for (let i = 0; i < draws; i++) if (weightedOrder(items, random)[0]?.name === "a") first++;
    const sd = Math.sqrt(draws * 0.75 * 0.25);
    assert.ok(Math.abs(first - draws * 0.75) < 4 * sd, `${first} of ${draws} first, expected about 7500`);
  });

  it("returns every item once, so the rest follow as failover", () => {
    const order = weightedOrder([{ weight: 1 }, { weight: 2 }, { weight: 3 }], seeded(1));
    assert.equal(order.length, 3);
    assert.equal(new Set(order).size, 3);
  });
});

describe("role config with deployments", () => {
  it("takes the role's model, provider and price from its first deployment when it leaves them out", () => {
    const config = parseConfig(poolConfig(), { DATABASE_URL: ":memory:" }, "test");
    const pool = config.models.pool_ai;
    assert.ok(typeof pool === "object");
    assert.equal(pool.provider, "openrouter");
    assert.equal(pool.model, model);
    assert.deepEqual(pool.pricing, { inputPerMillion: 0.1, outputPerMillion: 0.3 });
    assert.equal(pool.deployments?.[1]?.weight, 3);
  });

  it("refuses a role model that is not one of its deployments", () => {
    assert.throws(
      () =>
        parseConfig(
          {
            models: {
              pool_ai: {
                model: "other/model",
                pricing: { inputPerMillion: 0, outputPerMillion: 0 },
                deployments: [{ provider: "openrouter", model }],
              },
            },
          },
          { DATABASE_URL: ":memory:" },
          "test",
        ),
      /models\.pool_ai\.model.*not one of the role's deployments/s,
    );
  });

  it("refuses deployments on a role that does not chat", () => {
    assert.throws(
      () =>
        parseConfig(
          { models: { image_generation_ai: { deployments: [{ provider: "google_ai", model: "imagen" }] } } },
          { DATABASE_URL: ":memory:" },
          "test",
        ),
      /models\.image_generation_ai\.deployments: only chat roles have deployments/,
    );
  });

  it("names a deployment provider the registry does not know at startup", () => {
    const config = parseConfig(poolConfig(), { DATABASE_URL: ":memory:" }, "test");
    const catalog = new ModelCatalog(config.models);
    assert.throws(() => checkDeploymentProviders(catalog.roles(), ["openrouter", "google_ai"]), {
      code: "invalid_config",
      message:
        /models\.pool_ai: provider 'local' \(for meta-llama\/llama-3\.3-70b-instruct\) is not configured/,
    });
  });

  it("keys circuits and rate-limit windows by provider and model", () => {
    const config = parseConfig(poolConfig(), { DATABASE_URL: ":memory:" }, "test");
    const { modelKeys } = createResilience(config, { now: () => 0 });
    assert.equal(modelKeys.keyOf(model, "local"), `local:${model}`);
    assert.equal(modelKeys.keyOf(model, "openrouter"), model);
    assert.equal(modelKeys.keyOf("made/up", "local"), "other");
  });
});

describe("ModelClient with deployments", () => {
  let services: InMemoryServices;
  afterEach(() => services.close());

  it("spreads 1,000 calls 3:1 by weight, within the binomial's spread", async () => {
    const local = new InMemoryChatProvider(() => text("from local"));
    const openrouter = new InMemoryChatProvider(() => text("from openrouter"));
    services = await inMemoryServices({
      provider: openrouter,
      providers: { local },
      random: seeded(42),
      config: poolConfig(),
    });
    const calls = 1000;
    const answeredBy = { local: 0, openrouter: 0 };
    for (let i = 0; i < calls; i++) {
      const result = await services.models.call("pool_ai", question);
      answeredBy[result.provider as "local" | "openrouter"]++;
      assert.equal(result.model, model);
      assert.equal(result.fallbackFrom, undefined);
    }
    assert.equal(answeredBy.local + answeredBy.openrouter, calls);
    const sd = Math.sqrt(calls * 0.75 * 0.25);
    assert.ok(
      Math.abs(answeredBy.local - calls * 0.75) < 4 * sd,
      `local answered ${answeredBy.local} of ${calls} (expected 750 ± ${Math.round(4 * sd)})`,
    );
    assert.equal(local.requests.length, answeredBy.local);
    assert.equal(openrouter.requests.length, answeredBy.openrouter);
  });

  for (const [way, ask] of Object.entries(ways)) {
    it(`${way}: skips a failing deployment within the request; its circuit opens alone`, async () => {
      const local = new InMemoryChatProvider(() => fail(transient()));
      const openrouter = new InMemoryChatProvider(() => text("4"));
      // Always draws local first (0.99 of the total weight falls in local's 3 of 4).
      services = await inMemoryServices({
        provider: openrouter,
        providers: { local },
        random: () => 0.99,
        config: poolConfig(),
      });
      const { breakers } = services.models.resilience;
      for (let i = 0; i < 7; i++) {
        const result = await ask(services.models, question);
        assert.equal(result.provider, "openrouter");
        assert.equal(result.model, model);
        assert.equal(result.content, "4");
      }
      // Failed over at once: no retry of the failing deployment, no backoff waited.
      assert.equal(local.requests.length, 5, "tried until its circuit opened (failureThreshold 5)");
      assert.deepEqual(services.time.sleeps, []);
      assert.equal(breakers.for(`local:${model}`).snapshot().state, "open");
      assert.equal(breakers.for(model).snapshot().state, "closed", "the same model id on OpenRouter");
      // The ledger names each try's deployment: the failures on local, the answers on OpenRouter.
      const tries = services.calls.map((c) => `${c.provider} ${c.model} ${c.errorCode ?? c.outcome}`);
      assert.deepEqual(tries.slice(0, 2), [`local ${model} upstream_unavailable`, `openrouter ${model} ok`]);
      assert.deepEqual(tries.slice(-2), [`local ${model} circuit_open`, `openrouter ${model} ok`]);
    });
  }

  it("goes on to the role's fallbacks only after every deployment failed", async () => {
    const local = new InMemoryChatProvider(() => fail(transient()));
    const openrouter = new InMemoryChatProvider((request) =>
      request.model === model ? fail(transient()) : text("from the fallback"),
    );
    services = await inMemoryServices({
      provider: openrouter,
      providers: { local },
      random: () => 0.99,
      config: poolConfig(),
    });
    const result = await services.models.call("pool_ai", question);
    assert.equal(result.model, "openai/gpt-oss-20b");
    assert.equal(result.provider, "openrouter");
    assert.equal(result.fallbackFrom, model);
    const tries = services.calls.map((c) => `${c.provider} ${c.model} ${c.outcome}`);
    // The failing local deployment once (another deployment came after it), the last deployment retried as
    // a role's own model always is, then the fallback.
    assert.equal(tries[0], `local ${model} transient`);
    assert.ok(tries.slice(1, -1).length > 1);
    assert.ok(tries.slice(1, -1).every((t) => t === `openrouter ${model} transient`));
    assert.equal(tries.at(-1), "openrouter openai/gpt-oss-20b ok");
  });

  it("skips a deployment whose rate limit is reached instead of waiting for room", async () => {
    const local = new InMemoryChatProvider(() => text("from local"));
    const openrouter = new InMemoryChatProvider(() => text("from openrouter"));
    services = await inMemoryServices({
      provider: openrouter,
      providers: { local },
      random: () => 0.99,
      config: poolConfig({
        rateLimits: { upstream: { models: { [`local:${model}`]: { requestsPerMinute: 1 } } } },
      }),
    });
    const first = await services.models.call("pool_ai", question);
    const second = await services.models.call("pool_ai", question);
    assert.equal(first.provider, "local");
    assert.equal(second.provider, "openrouter");
    assert.deepEqual(services.time.sleeps, [], "no wait for the local window");
    assert.equal(services.models.resilience.breakers.for(`local:${model}`).snapshot().state, "closed");
  });

  it("moves to another provider's deployment when one provider refuses the account", async () => {
    const local = new InMemoryChatProvider(() =>
      fail(
        new OrchestratorError({
          kind: "persistent",
          code: "upstream_auth_failed",
          status: 401,
          message: "bad key",
        }),
      ),
    );
    const openrouter = new InMemoryChatProvider(() => text("4"));
    services = await inMemoryServices({
      provider: openrouter,
      providers: { local },
      random: () => 0.99,
      config: poolConfig(),
    });
    const result = await services.models.call("pool_ai", question);
    assert.equal(result.provider, "openrouter");
  });

  it("streams from the next deployment when the first fails before its first text", async () => {
    const local = new InMemoryChatProvider(() => fail(transient()));
    const openrouter = new InMemoryChatProvider(() => text("streamed answer"));
    services = await inMemoryServices({
      provider: openrouter,
      providers: { local },
      random: () => 0.99,
      config: poolConfig(),
    });
    const models: string[] = [];
    let done: RoleCallResult | undefined;
    for await (const event of services.models.stream("pool_ai", question)) {
      if (event.type === "done") done = event.result;
      else models.push(event.model);
    }
    assert.equal(done?.provider, "openrouter");
    assert.equal(done?.content, "streamed answer");
    assert.ok(models.length > 0 && models.every((m) => m === model));
  });

  it("prices each deployment at its own price", async () => {
    const usage = { promptTokens: 1_000_000, completionTokens: 1_000_000 };
    const local = new InMemoryChatProvider(() => text("a", usage));
    const openrouter = new InMemoryChatProvider(() => text("b", usage));
    let draw = 0;
    services = await inMemoryServices({
      provider: openrouter,
      providers: { local },
      random: () => draw,
      config: poolConfig(),
    });
    const paid = await services.models.call("pool_ai", question);
    draw = 0.99;
    const free = await services.models.call("pool_ai", question);
    assert.deepEqual(
      [paid, free].map((r) => [r.provider, Math.round(r.usage.costUsd * 1e9) / 1e9]),
      [
        ["openrouter", 0.4],
        ["local", 0],
      ],
    );
    assert.deepEqual(
      services.calls.map((c) => [c.provider, Math.round(c.costUsd * 1e9) / 1e9]),
      [
        ["openrouter", 0.4],
        ["local", 0],
      ],
    );
  });
});

describe("the router's knowledge of a role with deployments", () => {
  let services: InMemoryServices;
  afterEach(() => services.close());

  it("counts the role unavailable only when every deployment and every fallback has its circuit open", async () => {
    services = await inMemoryServices({
      providers: { local: new InMemoryChatProvider() },
      config: poolConfig(),
    });
    const { breakers } = services.models.resilience;
    const open = (key: string) => {
      for (let i = 0; i < 5; i++) breakers.for(key).onFailure();
    };
    const unavailable = () => routerKnowledge(services.models).facts("pool_ai")?.allCircuitsOpen;
    open(model);
    assert.equal(unavailable(), false, "local and the fallback are still closed");
    open("openai/gpt-oss-20b");
    assert.equal(unavailable(), false, "local is still closed: the role's own model is not all it has");
    open(`local:${model}`);
    assert.equal(unavailable(), true);
  });
});

describe("metrics by deployment", () => {
  it("labels upstream calls, tokens and cost with the provider as well as the model", async () => {
    const metrics = new Metrics({
      breakers: { snapshots: () => [] } as never,
      scheduler: { stats: () => ({ running: 0, waiting: { high: 0, medium: 0, low: 0 } }) } as never,
      runningWorkflows: () => 0,
      modelLabel: (m) => m,
    });
    metrics.onCall(ledgerEntry({ model, provider: "local", costUsd: 0.5 }));
    metrics.onCall(ledgerEntry({ model, provider: "openrouter", costUsd: 0.25 }));
    const text = await metrics.registry.metrics();
    assert.match(
      text,
      /orchestrator_upstream_calls_total\{[^}]*model="meta-llama\/llama-3\.3-70b-instruct"[^}]*provider="local"\} 1/,
    );
    assert.match(text, /orchestrator_cost_usd_total\{[^}]*provider="local"\} 0\.5/);
    assert.match(text, /orchestrator_cost_usd_total\{[^}]*provider="openrouter"\} 0\.25/);
  });
});
