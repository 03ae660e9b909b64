import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { anthropicBody, isAdaptiveOnly } from "../../../src/providers/anthropic/anthropic-wire.ts";
import type { ChatRequest } from "../../../src/providers/chat-provider.ts";

const ask = (model: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model,
  messages: [{ role: "user", content: "Label this." }],
  maxTokens: 32,
  temperature: 0,
  ...extra,
});

describe("Anthropic wire mapping: the Claude 5 generation", () => {
  it("tells the adaptive-only generation by its id", () => {
    for (const model of ["claude-sonnet-5", "claude-haiku-5-5", "claude-opus-5-5", "claude-fable-5-1"]) {
      assert.equal(isAdaptiveOnly(model), true, model);
    }
    for (const model of ["claude-sonnet-4-6", "claude-3-5-sonnet-20241022", "claude-haiku-4-5", "llama3"]) {
      assert.equal(isAdaptiveOnly(model), false, model);
    }
  });

  it("sends no sampling parameters, no thinking budget and never switches thinking off for Claude 5", () => {
    const body = anthropicBody(
      ask("claude-haiku-5-5", {
        upstreamParams: { top_p: 0.9, top_k: 40 },
        reasoning: { effort: "none" },
      }),
      "anthropic",
    );
    assert.equal(body.temperature, undefined);
    assert.equal(body.top_p, undefined);
    assert.equal(body.top_k, undefined);
    assert.equal(body.thinking, undefined);
    const budget = anthropicBody(ask("claude-opus-5-5", { reasoning: { maxTokens: 2048 } }), "anthropic");
    assert.equal(budget.thinking, undefined);
  });

  it("keeps temperature, sampling and the thinking budget for the earlier models", () => {
    const body = anthropicBody(ask("claude-sonnet-4-6", { upstreamParams: { top_k: 40 } }), "anthropic");
    assert.equal(body.temperature, 0);
    assert.equal(body.top_k, 40);
    const budget = anthropicBody(ask("claude-sonnet-4-6", { reasoning: { maxTokens: 2048 } }), "anthropic");
    assert.deepEqual(budget.thinking, { type: "enabled", budget_tokens: 2048 });
  });
});
