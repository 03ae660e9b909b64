import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startFakeOpenAi } from "../fakes/fake-openai.ts";
import type { FakeUpstream } from "../fakes/fake-upstream.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

// One role on two providers with the same model id: OpenRouter, and a "local" server on the OpenAI chat wire
// (Ollama serves it at /v1/chat/completions, https://ollama.com/blog/openai-compatibility). Only the provider
// tells the two deployments apart, and /stats must keep them apart.
const model = "meta-llama/llama-3.3-70b-instruct";

describe("/stats names the deployment that answered", () => {
  let local: FakeUpstream;
  let t: TestApp;

  before(async () => {
    local = await startFakeOpenAi();
    t = await startTestApp({
      config: {
        routing: { warmup: { enabled: false } },
        providers: { local: { type: "openai", baseUrl: local.baseUrl } },
        models: {
          medium_ai: {
            deployments: [
              { provider: "openrouter", model, weight: 1 },
              { provider: "local", model, weight: 3, pricing: { inputPerMillion: 0, outputPerMillion: 0 } },
            ],
            pricing: { inputPerMillion: 0.1, outputPerMillion: 0.3 },
            fallbacks: [],
          },
        },
      },
      // Always in local's share of the weight: local is tried first, OpenRouter follows.
      random: () => 0.99,
    });
  });
  after(async () => {
    await t.close();
    await local.close();
  });

  it("lists each provider's calls of one model id apart, beside the merged per-model entry", async () => {
    const ask = () =>
      t.post("/v1/chat/completions", { model: "medium_ai", messages: [{ role: "user", content: "2+2?" }] });
    // The first call: local answers 503, OpenRouter answers instead. The second: local answers.
    local.enqueue({ kind: "error", status: 503, message: "overloaded" });
    const first = await ask();
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.orchestrator.provider, "openrouter");
    const second = await ask();
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.orchestrator.provider, "local");

    const stats = await t.get("/stats");
    assert.equal(stats.status, 200, JSON.stringify(stats.body));
    const mine = stats.body.deployments.filter((d: { model: string }) => d.model === model);
    assert.deepEqual(
      mine.map((d: Record<string, unknown>) => [d.provider, d.circuit, d.calls, d.ok, d.errors, d.cached]),
      [
        ["local", `local:${model}`, 2, 1, 1, 0],
        ["openrouter", model, 1, 1, 0, 0],
      ],
    );
    const [fromLocal, fromOpenRouter] = mine;
    // Local's prompt and completion tokens as its server counted them, at its own price of nothing.
    assert.deepEqual(
      [fromLocal.prompt_tokens, fromLocal.completion_tokens, fromLocal.cost_usd],
      [second.body.usage.prompt_tokens, second.body.usage.completion_tokens, 0],
    );
    assert.ok(fromOpenRouter.cost_usd > 0);
    // The per-model view is unchanged: one entry for the model id, whichever provider answered.
    const perModel = stats.body.models.filter((m: { model: string }) => m.model === model);
    assert.deepEqual(
      perModel.map((m: Record<string, unknown>) => [m.calls, m.ok, m.errors]),
      [[3, 2, 1]],
    );
    assert.ok(Math.abs(perModel[0].cost_usd - fromOpenRouter.cost_usd) < 1e-12);
    // Each deployment's circuit key is one the circuits list shows.
    const circuits = new Set(stats.body.circuits.map((c: { model: string }) => c.model));
    for (const deployment of mine) assert.ok(circuits.has(deployment.circuit), deployment.circuit);
  });
});
