import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
import {
  BoundedCount,
  overLimitBySample,
  sampleMargin,
  sliceChars,
  sliceEnd,
} from "../../../src/tokens/bounded-count.ts";

const asText = { disallowedSpecial: new Set<string>() };
const count = (text: string) => countTokens(text, asText);

// A counter that records what it was given: one token a character.
function recording() {
  const slices: string[] = [];
  return {
    slices,
    countSlice: (slice: string) => {
      slices.push(slice);
      return slice.length;
    },
  };
}

describe("counting in slices", () => {
  it("gives the same total as counting the whole, for prose, code, JSON and other scripts", () => {
    const texts = [
      readFileSync(new URL("../../../src/chat/chat-service.ts", import.meta.url), "utf8"),
      JSON.stringify({ a: [1, 2, 3], nested: { text: "some words here" } }, null, 2).repeat(300),
      "Hello,  world!\n\n\tTabs  and   spaces ... 東京は日本の首都であり、 多くの人々 Ünïcödé — «quotes» 123456789 1,2,3 <|endoftext|> don't I'll 😀  ".repeat(
        200,
      ),
      "word\u00a0 word \u3000 word\u2003 next  ".repeat(500),
    ];
    for (const text of texts) {
      assert.equal(new BoundedCount([text], Number.POSITIVE_INFINITY, count).finish().tokens, count(text));
    }
  });

  it("cuts before a space that follows a non-space, and a run without one at the slice length", () => {
    const words = "alpha beta ".repeat(100);
    const end = sliceEnd(words, 0);
    assert.ok(end <= sliceChars && end > sliceChars - 12);
    assert.equal(words[end], " ");
    assert.equal(sliceEnd("x".repeat(1_000), 0), sliceChars);
    assert.equal(sliceEnd("short", 0), 5);
    // Never between the halves of a surrogate pair.
    const emoji = `${"a".repeat(sliceChars - 1)}😀${"b".repeat(10)}`;
    assert.equal(sliceEnd(emoji, 0), sliceChars - 1);
  });

  it("stops once past the limit, saying the count is only how far it got", () => {
    const { slices, countSlice } = recording();
    const texts = Array.from({ length: 100 }, () => "x".repeat(1_000));
    const outcome = new BoundedCount(texts, 2_500, countSlice).finish();
    assert.equal(outcome.exact, false);
    assert.ok(outcome.tokens > 2_500 && outcome.tokens <= 2_500 + sliceChars);
    assert.ok(slices.join("").length < 3_000, "the rest is never looked at");
    assert.deepEqual(new BoundedCount(["abc", "", "de"], 5, countSlice).finish(), { tokens: 5, exact: true });
  });

  it("advances a step at a time, each about the characters it is given", () => {
    const { slices, countSlice } = recording();
    const job = new BoundedCount(["y".repeat(10_000)], Number.POSITIVE_INFINITY, countSlice);
    assert.equal(job.step(1_000), undefined);
    assert.ok(slices.join("").length >= 1_000 && slices.join("").length < 1_000 + sliceChars);
    let outcome = job.step(1_000);
    while (outcome === undefined) outcome = job.step(1_000);
    assert.deepEqual(outcome, { tokens: 10_000, exact: true });
  });
});

describe("refusing on a sample", () => {
  it("refuses texts far past the limit after counting a few kilobytes of them", () => {
    const { slices, countSlice } = recording();
    const texts = Array.from({ length: 300 }, () => "z".repeat(50_000));
    const outcome = overLimitBySample(texts, 900_000, countSlice);
    assert.equal(outcome?.exact, false);
    assert.equal(outcome?.sampled, true);
    assert.equal(outcome?.tokens, 15_000_000);
    assert.ok(slices.join("").length <= 64 * sliceChars);
  });

  it("leaves texts within the margin, or too short to pass the limit, to the count", () => {
    const { countSlice } = recording();
    const near = ["q".repeat(900_000 * sampleMargin)];
    assert.equal(overLimitBySample(near, 900_000, countSlice), undefined);
    assert.equal(overLimitBySample(["q".repeat(900_000)], 900_000, countSlice), undefined);
    assert.equal(overLimitBySample(["q".repeat(5_000_000)], Number.POSITIVE_INFINITY, countSlice), undefined);
  });

  it("estimates texts that cost far more to count than prose", () => {
    let seed = 1;
    const random = () => {
      seed = (seed * 48_271) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    const letters = Array.from({ length: 4_000_000 }, () =>
      String.fromCharCode(97 + Math.floor(random() * 26)),
    );
    const outcome = overLimitBySample([letters.join("")], 900_000, count);
    // About two characters a token: far past the limit, found without counting four million characters.
    assert.equal(outcome?.sampled, true);
    assert.ok((outcome?.tokens ?? 0) > 1_800_000);
  });
});
