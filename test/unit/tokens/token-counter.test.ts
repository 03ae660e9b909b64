import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { countTokensNow, createTokenCounter } from "../../../src/tokens/token-counter.ts";

describe("token counter", () => {
  it("counts with a real BPE tokenizer, not characters/4", () => {
    assert.equal(countTokensNow(""), 0);
    assert.equal(countTokensNow("hello world"), 2);
    // 12 characters of digits and punctuation are far from 3 tokens.
    assert.notEqual(countTokensNow("1,2,3,4,5,6,"), 3);
  });

  it("gives the same count on the worker thread as inline", async () => {
    const counter = createTokenCounter({ workerThreshold: 100 });
    try {
      const text = "Tokenizers split text into pieces; counting them right matters. ".repeat(50);
      const [onWorker, alsoOnWorker] = await Promise.all([
        counter.count(text),
        counter.count(`${text} more`),
      ]);
      assert.equal(onWorker, countTokensNow(text));
      assert.equal(alsoOnWorker, countTokensNow(`${text} more`));
      assert.equal(await counter.count("short"), countTokensNow("short"));
    } finally {
      await counter.close();
    }
  });
});
