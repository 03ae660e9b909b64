import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nestsDeeperThan } from "../../../src/api/json-body.ts";

describe("nestsDeeperThan", () => {
  const nested = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;

  it("counts arrays and objects together, up to the limit and past it", () => {
    assert.equal(nestsDeeperThan(nested(3), 3), false);
    assert.equal(nestsDeeperThan(nested(4), 3), true);
    assert.equal(nestsDeeperThan('{"a":[{"b":1}]}', 3), false);
    assert.equal(nestsDeeperThan('{"a":[{"b":[]}]}', 3), true);
    // Siblings do not add up: depth goes back down as each closes.
    assert.equal(nestsDeeperThan(`[${Array(1000).fill("[[]]").join(",")}]`, 3), false);
  });

  it("ignores brackets inside strings, escaped quotes included", () => {
    assert.equal(nestsDeeperThan(JSON.stringify({ text: "[[[[{{{{" }), 2), false);
    assert.equal(nestsDeeperThan(JSON.stringify({ text: 'say \\"[[[[' }), 2), false);
    assert.equal(nestsDeeperThan(JSON.stringify({ text: '\\\\"' }), 1), false);
    assert.equal(nestsDeeperThan(`{"a\\"[[":[[1]]}`, 2), true);
    assert.equal(nestsDeeperThan(`{"a\\\\":[[1]]}`, 2), true);
  });

  it("leaves malformed JSON to the parser", () => {
    assert.equal(nestsDeeperThan('{"never closed: [[[[[[', 2), false);
    assert.equal(nestsDeeperThan("]]]]", 2), false);
    assert.equal(nestsDeeperThan("", 2), false);
  });
});
