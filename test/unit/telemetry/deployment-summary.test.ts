import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DeploymentUsageRow } from "../../../src/store/usage-store.ts";
import { summarizeDeployments } from "../../../src/telemetry/stats-report.ts";

const row = (overrides: Partial<DeploymentUsageRow>): DeploymentUsageRow => ({
  provider: "openrouter",
  model: "m",
  outcome: "ok",
  calls: 1,
  promptTokens: 100,
  completionTokens: 10,
  cacheReadTokens: 0,
  costUsd: 0.1,
  ...overrides,
});

describe("deployments in /stats", () => {
  it("counts answers, errors and cache hits per provider and model, tokens only of upstream tries", () => {
    const summary = summarizeDeployments(
      [
        row({ provider: "openrouter", calls: 2, promptTokens: 200, completionTokens: 20, costUsd: 0.2 }),
        row({ provider: "local", outcome: "transient", promptTokens: 0, completionTokens: 0, costUsd: 0 }),
        row({ provider: "local", calls: 3, promptTokens: 300, cacheReadTokens: 128, costUsd: 0 }),
        // A response-cache answer: no upstream call, and its tokens were the original call's.
        row({ provider: "openrouter", outcome: "cached", costUsd: 0 }),
      ],
      (model) => model,
      (model, provider) => (provider === "openrouter" ? model : `${provider}:${model}`),
    );
    assert.deepEqual(summary, [
      {
        provider: "local",
        model: "m",
        circuit: "local:m",
        calls: 4,
        ok: 3,
        errors: 1,
        cached: 0,
        prompt_tokens: 300,
        completion_tokens: 10,
        cache_read_tokens: 128,
        cost_usd: 0,
      },
      {
        provider: "openrouter",
        model: "m",
        circuit: "m",
        calls: 3,
        ok: 2,
        errors: 0,
        cached: 1,
        prompt_tokens: 200,
        completion_tokens: 20,
        cache_read_tokens: 0,
        cost_usd: 0.2,
      },
    ]);
  });

  it("folds the model ids the per-model view folds into other, per provider", () => {
    const summary = summarizeDeployments(
      [row({ model: "made/up-1" }), row({ model: "made/up-2" }), row({ model: "kept" })],
      (model) => (model === "kept" ? model : "other"),
      (model) => model,
    );
    assert.deepEqual(
      summary.map((d) => [d.provider, d.model, d.circuit, d.calls]),
      [
        ["openrouter", "kept", "kept", 1],
        ["openrouter", "other", "other", 2],
      ],
    );
  });
});
