import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { unusableReason } from "../../../src/routing/answer-check.ts";

const answer = (content: string, finishReason = "stop") => ({ content, finishReason });
const json = { responseFormat: { type: "json_object" } };

describe("unusableReason", () => {
  it("passes an ordinary answer", () => {
    assert.equal(unusableReason(answer("Heat pumps move heat.")), undefined);
  });

  it("finds an empty or blank answer", () => {
    assert.equal(unusableReason(answer("")), "empty");
    assert.equal(unusableReason(answer(" \n\t")), "empty");
    // A thinking model that spent the whole output limit on reasoning: empty, and cut off.
    assert.equal(unusableReason(answer("", "length")), "empty");
  });

  it("finds an answer cut off by the output limit", () => {
    assert.equal(unusableReason(answer("The three reasons are: first,", "length")), "length");
  });

  it("finds refusals: a content filter, or a short text that opens by declining", () => {
    assert.equal(unusableReason(answer("partial", "content_filter")), "refusal");
    for (const text of [
      "I'm sorry, but I can't help with that.",
      "I cannot assist with this request.",
      "Sorry, I am unable to provide that information.",
      "As an AI language model, I can't do that.",
      "I won't help with that.",
    ]) {
      assert.equal(unusableReason(answer(text)), "refusal", text);
    }
  });

  it("does not take an answer that declines one part and answers the rest for a refusal", () => {
    const long = `I can't help with the first part, but here is the rest. ${"Details follow. ".repeat(40)}`;
    assert.equal(unusableReason(answer(long)), undefined);
    assert.equal(unusableReason(answer("I can help with that: here is how.")), undefined);
  });

  it("finds text that is not JSON when JSON was asked for, and only then", () => {
    assert.equal(unusableReason(answer('{"a": 1}'), json), undefined);
    assert.equal(unusableReason(answer("  [1, 2]\n"), json), undefined);
    assert.equal(unusableReason(answer('Here you go: {"a": 1}'), json), "invalid_json");
    assert.equal(
      unusableReason(answer('{"a": 1'), { responseFormat: { type: "json_schema" } }),
      "invalid_json",
    );
    assert.equal(unusableReason(answer("plain text"), { responseFormat: { type: "text" } }), undefined);
    assert.equal(unusableReason(answer("plain text")), undefined);
  });

  it("takes an answer that calls tools as usable, even with no text", () => {
    const toolCalls = [{ id: "c1", type: "function" as const, function: { name: "f", arguments: "{}" } }];
    assert.equal(unusableReason({ content: "", finishReason: "tool_calls", toolCalls }), undefined);
  });
});
