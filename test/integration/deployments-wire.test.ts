import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import type { RoleCall } from "../../src/models/model-client.ts";
import { OpenRouterProvider } from "../../src/providers/openrouter/openrouter-provider.ts";
import { type FakeOpenRouter, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { type InMemoryServices, inMemoryServices } from "../support/in-memory-services.ts";

// One role on two upstreams that speak the OpenAI chat wire: OpenRouter, and a "local" server. Ollama serves
// that wire at /v1/chat/completions (https://ollama.com/blog/openai-compatibility), so a second fake OpenRouter
// stands in for it here. The same model id on both, so that only the provider tells the deployments apart.
const model = "meta-llama/llama-3.3-70b-instruct";
const question: RoleCall = { messages: [{ role: "user", content: "What is 2+2?" }], purpose: "answer" };
const config = {
  models: {
    pool_ai: {
      deployments: [
        { provider: "openrouter", model, weight: 1 },
        { provider: "local", model, weight: 3, pricing: { inputPerMillion: 0, outputPerMillion: 0 } },
      ],
      pricing: { inputPerMillion: 0.1, outputPerMillion: 0.3 },
      fallbacks: [],
    },
  },
};
// 0.99 of the total weight falls in local's share: local is drawn first, OpenRouter follows.
const localFirst = () => 0.99;

describe("deployments on the wire", () => {
  let remote: FakeOpenRouter;
  let local: FakeOpenRouter;
  let services: InMemoryServices;
  const provider = (fake: FakeOpenRouter) =>
    new OpenRouterProvider({ apiKey: fake.apiKey, baseUrl: fake.baseUrl, defaultTimeoutMs: 5_000 });

  before(async () => {
    remote = await startFakeOpenRouter();
    local = await startFakeOpenRouter();
  });
  after(async () => {
    await remote.close();
    await local.close();
  });
  beforeEach(async () => {
    remote.clear();
    local.clear();
    remote.respondWith(() => ({ kind: "text", content: "from openrouter", cost: null }));
    services = await inMemoryServices({
      config,
      providers: { openrouter: provider(remote), local: provider(local) },
      random: localFirst,
    });
  });
  afterEach(() => services.close());

  it("answers from the drawn deployment and names it", async () => {
    local.respondWith(() => ({ kind: "text", content: "from local", cost: null }));
    const result = await services.models.call("pool_ai", question);
    assert.deepEqual([result.provider, result.model, result.content], ["local", model, "from local"]);
    assert.equal(remote.requests.length, 0);
    assert.deepEqual(
      services.calls.map((c) => [c.provider, c.model, c.outcome]),
      [["local", model, "ok"]],
    );
  });

  it("fails over to the other provider when the drawn one answers 503, and opens only its circuit", async () => {
    local.respondWith(() => ({ kind: "error", status: 503, message: "overloaded" }));
    for (let i = 0; i < 6; i++) {
      const result = await services.models.call("pool_ai", question);
      assert.deepEqual([result.provider, result.content], ["openrouter", "from openrouter"]);
    }
    const { breakers } = services.models.resilience;
    assert.equal(local.requests.length, 5, "one try each until its circuit opened, none after");
    assert.equal(breakers.for(`local:${model}`).snapshot().state, "open");
    assert.equal(breakers.for(model).snapshot().state, "closed");
    // Priced at the deployment that answered: OpenRouter's price, as no cost was reported.
    const answered = services.calls.filter((c) => c.outcome === "ok");
    assert.ok(answered.every((c) => c.provider === "openrouter" && c.costSource === "price"));
  });

  it("streams: fails over before the first text, never after it", async () => {
    local.respondWith(() => ({ kind: "error", status: 502, message: "bad gateway" }));
    let text = "";
    for await (const event of services.models.stream("pool_ai", question)) {
      if (event.type === "delta") text += event.text;
      if (event.type === "done") assert.equal(event.result.provider, "openrouter");
    }
    assert.equal(text, "from openrouter");

    local.respondWith(() => ({ kind: "midstream-error", contentBefore: "half an ans", message: "gone" }));
    remote.clear();
    const seen: string[] = [];
    await assert.rejects(async () => {
      for await (const event of services.models.stream("pool_ai", question)) {
        if (event.type === "delta") seen.push(event.text);
      }
    });
    assert.ok(seen.join("").startsWith("half"), "the local text was passed on");
    assert.equal(remote.requests.length, 0, "no failover once text was sent on");
  });
});
