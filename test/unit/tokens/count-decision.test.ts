import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { boundsFromBytes, exactCountNeeded, maxBytesPerToken } from "../../../src/tokens/count-decision.ts";

const routing = [100_000, 200_000, 900_000];

describe("whether a context's length decides without the tokenizer", () => {
  it("bounds a text by one token a byte at most and one per 128 bytes at least, after what is counted", () => {
    assert.equal(maxBytesPerToken, 128);
    assert.deepEqual(boundsFromBytes(0), { lower: 0, upper: 0 });
    assert.deepEqual(boundsFromBytes(1_280), { lower: 10, upper: 1_280 });
    assert.deepEqual(boundsFromBytes(1_281, 500), { lower: 511, upper: 1_781 });
  });

  const table: Array<[string, { lower: number; upper: number }, readonly number[], boolean]> = [
    ["no count can pass the lowest rule", { lower: 100, upper: 100_000 }, routing, false],
    ["one over the lowest rule could pass it", { lower: 100, upper: 100_001 }, routing, true],
    ["every count passes the limit", { lower: 900_001, upper: 5_000_000 }, routing, false],
    ["the lower bound at the limit is not past it", { lower: 900_000, upper: 5_000_000 }, routing, true],
    ["between two rules, clear of both", { lower: 100_001, upper: 200_000 }, routing, false],
    ["straddling the middle rule", { lower: 150_000, upper: 250_000 }, routing, true],
    ["a named model: only the limit matters", { lower: 1_000, upper: 800_000 }, [900_000], false],
    ["a named model near the limit", { lower: 1_000, upper: 1_000_000 }, [900_000], true],
    ["no thresholds at all", { lower: 0, upper: 10_000_000 }, [], false],
  ];
  for (const [name, bounds, thresholds, needed] of table) {
    it(`${name}: ${needed ? "needs a count" : "decided"}`, () => {
      assert.equal(exactCountNeeded(bounds, thresholds), needed);
    });
  }

  it("a 15 MB body is not decided by its length alone; 100 KB is", () => {
    assert.equal(exactCountNeeded(boundsFromBytes(15_000_000), routing), true);
    assert.equal(exactCountNeeded(boundsFromBytes(100_000), routing), false);
    // A session whose stored history is past the limit already.
    assert.equal(exactCountNeeded(boundsFromBytes(10, 900_001), routing), false);
  });
});
