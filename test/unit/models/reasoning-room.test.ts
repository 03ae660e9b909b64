import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { withReasoningRoom } from "../../../src/models/model-client.ts";

describe("withReasoningRoom", () => {
  it("leaves a model without reasoning at its answer's room", () => {
    assert.equal(withReasoningRoom(4096, undefined, 131072), 4096);
  });

  it("adds a reasoning token budget on top of the answer", () => {
    assert.equal(withReasoningRoom(4096, { maxTokens: 8000 }, 131072), 12096);
  });

  it("grows max_tokens so an effort's share of it still leaves the answer its room", () => {
    assert.equal(withReasoningRoom(1000, { effort: "low" }, 131072), 1250);
    assert.equal(withReasoningRoom(1000, { effort: "medium" }, 131072), 2000);
    assert.equal(withReasoningRoom(1000, { effort: "high" }, 131072), 5000);
    assert.equal(withReasoningRoom(1000, { effort: "none" }, 131072), 1000);
  });

  it("never asks for more than half the context window, nor less than the answer", () => {
    assert.equal(withReasoningRoom(16384, { effort: "xhigh" }, 262144), 131072);
    assert.equal(withReasoningRoom(4096, { effort: "high" }, 4096), 4096);
  });
});
