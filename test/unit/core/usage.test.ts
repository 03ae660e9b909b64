import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addUsage, sumUsage, zeroUsage } from "../../../src/core/usage.ts";

describe("usage", () => {
  it("adds tokens and cost, keeping reasoning tokens only when there were some", () => {
    const a = { promptTokens: 10, completionTokens: 5, costUsd: 0.5 };
    assert.deepEqual(addUsage(a, a), { promptTokens: 20, completionTokens: 10, costUsd: 1 });
    assert.deepEqual(addUsage(a, { ...a, reasoningTokens: 3 }), {
      promptTokens: 20,
      completionTokens: 10,
      reasoningTokens: 3,
      costUsd: 1,
    });
  });

  it("takes only the usage fields of a richer record", () => {
    const spend = {
      promptTokens: 1,
      completionTokens: 2,
      costUsd: 0.1,
      output: "the answer",
      costSource: "price",
    };
    assert.deepEqual(sumUsage([spend]), { promptTokens: 1, completionTokens: 2, costUsd: 0.1 });
  });

  it("sums nothing to zero", () => {
    assert.deepEqual(sumUsage([]), zeroUsage);
  });
});
