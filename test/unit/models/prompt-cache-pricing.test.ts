import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { costOf } from "../../../src/models/model-catalog.ts";
import {
  cachePricesOf,
  cacheSavingUsd,
  defaultCacheReadMultiplier,
  defaultCacheWriteMultiplier,
  tokenCostUsd,
} from "../../../src/models/prompt-cache-pricing.ts";

const near = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} is not ${expected}`);

describe("prompt-cache pricing", () => {
  // Claude-like prices per million: $3 in, $15 out, reads $0.30, writes $3.75.
  const listed = {
    inputPerMillion: 3,
    outputPerMillion: 15,
    cacheReadPerMillion: 0.3,
    cacheWritePerMillion: 3.75,
  };
  const tokens = {
    promptTokens: 10_000,
    completionTokens: 500,
    cacheReadTokens: 8_000,
    cacheWriteTokens: 1_000,
  };

  it("prices uncached input, cache reads, cache writes and output each at its own price", () => {
    // 1000 uncached × 3 + 8000 × 0.3 + 1000 × 3.75 + 500 × 15, per million.
    near(tokenCostUsd(listed, tokens), (1_000 * 3 + 8_000 * 0.3 + 1_000 * 3.75 + 500 * 15) / 1e6);
    near(
      tokenCostUsd(listed, { promptTokens: 10_000, completionTokens: 500 }),
      (10_000 * 3 + 500 * 15) / 1e6,
    );
  });

  it("uses the stated default multipliers of the input price where no cache price is known", () => {
    assert.equal(defaultCacheReadMultiplier, 0.5);
    assert.equal(defaultCacheWriteMultiplier, 1.25);
    const plain = { inputPerMillion: 2, outputPerMillion: 8 };
    assert.deepEqual(cachePricesOf(plain), { readPerMillion: 1, writePerMillion: 2.5 });
    near(tokenCostUsd(plain, tokens), (1_000 * 2 + 8_000 * 1 + 1_000 * 2.5 + 500 * 8) / 1e6);
    // One known, the other defaulted.
    assert.deepEqual(cachePricesOf({ ...plain, cacheReadPerMillion: 0.2 }), {
      readPerMillion: 0.2,
      writePerMillion: 2.5,
    });
  });

  it("computes the saving as reads × (input − read) less writes × (write − input)", () => {
    near(cacheSavingUsd(listed, tokens), (8_000 * (3 - 0.3) - 1_000 * (3.75 - 3)) / 1e6);
    // Only writing: a premium, so a negative saving.
    near(
      cacheSavingUsd(listed, { promptTokens: 2_000, completionTokens: 0, cacheWriteTokens: 2_000 }),
      (-2_000 * 0.75) / 1e6,
    );
    assert.equal(cacheSavingUsd(listed, { promptTokens: 2_000, completionTokens: 9 }), 0);
  });

  it("keeps the upstream's reported cost as the cost, while the saving still comes from the prices", () => {
    assert.equal(costOf({ pricing: listed }, { ...tokens, reportedCostUsd: 0.0123 }), 0.0123);
    near(costOf({ pricing: listed }, tokens), tokenCostUsd(listed, tokens));
    assert.equal(costOf(undefined, tokens), 0);
  });

  it("cuts cache counts that pass the prompt rather than price negative uncached input", () => {
    const absurd = { promptTokens: 100, completionTokens: 0, cacheReadTokens: 500, cacheWriteTokens: 500 };
    near(tokenCostUsd(listed, absurd), (100 * 0.3) / 1e6);
  });
});
