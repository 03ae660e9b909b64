import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../../src/config/index.ts";
import { OrchestratorError } from "../../../src/core/errors.ts";
import { preRoute } from "../../../src/routing/pre-route.ts";

const rules = parseConfig({}).routing.preRouting;

describe("preRoute", () => {
  it("sends images to the image analysis model", () => {
    assert.deepEqual(preRoute({ contextTokens: 10, imageCount: 1 }, rules), {
      kind: "role",
      role: "image_analysis_ai",
      reason: "images",
    });
  });

  it("forces the thinking model above 100k tokens and Gemini above 200k", () => {
    assert.deepEqual(preRoute({ contextTokens: 100_000, imageCount: 0 }, rules), { kind: "categorize" });
    assert.equal(preRoute({ contextTokens: 100_001, imageCount: 0 }, rules).kind, "role");
    assert.deepEqual(preRoute({ contextTokens: 150_000, imageCount: 0 }, rules), {
      kind: "role",
      role: "thinking_ai",
      reason: "large_context",
    });
    assert.deepEqual(preRoute({ contextTokens: 200_001, imageCount: 0 }, rules), {
      kind: "role",
      role: "image_analysis_ai",
      reason: "very_large_context",
    });
  });

  it("denies contexts above 900k tokens with a 413, images or not", () => {
    for (const imageCount of [0, 2]) {
      assert.throws(
        () => preRoute({ contextTokens: 900_001, imageCount }, rules),
        (error: unknown) =>
          OrchestratorError.isInstance(error) && error.status === 413 && error.code === "context_too_large",
      );
    }
    assert.equal(preRoute({ contextTokens: 900_000, imageCount: 0 }, rules).kind, "role");
  });

  it("says when the size is a count stopped past the limit or a sample's estimate", () => {
    const message = (counted: "exact" | "at_least" | "sampled") => {
      try {
        preRoute({ contextTokens: 1_200_000, imageCount: 0, counted }, rules);
      } catch (error) {
        return (error as Error).message;
      }
      return "";
    };
    assert.match(message("exact"), /context is 1200000 tokens, above the limit of 900000/);
    assert.match(message("at_least"), /context is at least 1200000 tokens, above the limit of 900000/);
    assert.match(message("sampled"), /about 1200000 tokens \(estimated from a sample of its text\)/);
  });

  it("follows configured thresholds", () => {
    const custom = parseConfig({
      routing: { preRouting: { thinkingContextTokens: 10, largeContextTokens: 20, maxContextTokens: 30 } },
    });
    assert.equal(preRoute({ contextTokens: 15, imageCount: 0 }, custom.routing.preRouting).kind, "role");
    assert.throws(() => preRoute({ contextTokens: 31, imageCount: 0 }, custom.routing.preRouting));
  });
});
