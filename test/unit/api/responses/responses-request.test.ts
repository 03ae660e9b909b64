import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  assertInputItemCount,
  convertResponsesRequest,
  type ItemLookup,
  maxInputItems,
  responsesBodySchema,
} from "../../../../src/api/responses/responses-request.ts";
import { OrchestratorError } from "../../../../src/core/errors.ts";
import type { ChatMessage } from "../../../../src/providers/chat-provider.ts";

// One stored item of 60,000 characters, and a record of how often it was looked up.
function storeWithOneItem() {
  const looked = { count: 0 };
  const item: ChatMessage = { role: "assistant", content: "y".repeat(60_000) };
  const lookup: ItemLookup = {
    item: (id) => {
      looked.count++;
      return id === "msg_big" ? item : undefined;
    },
    conversation: () => undefined,
  };
  return { looked, lookup };
}

const references = (n: number) =>
  responsesBodySchema.parse({
    model: "medium_ai",
    input: Array.from({ length: n }, () => ({ type: "item_reference", id: "msg_big" })),
  });

describe("expanding a Responses API input", () => {
  it("expands references up to the limit on the text they expand to", () => {
    const { lookup } = storeWithOneItem();
    const converted = convertResponsesRequest(references(10), lookup, 600_000);
    assert.equal(converted.conversation.length, 10);
  });

  it("refuses with 413 naming the limit as soon as the expansion passes it, before expanding the rest", () => {
    const { looked, lookup } = storeWithOneItem();
    assert.throws(
      () => convertResponsesRequest(references(4_000), lookup, 1_000_000),
      (error: unknown) =>
        OrchestratorError.isInstance(error) &&
        error.status === 413 &&
        error.code === "input_too_large" &&
        error.field === "input" &&
        /more than 1000000 characters, the limit \(system\.maxBodyBytes\)/.test(error.message),
    );
    assert.equal(looked.count, 17, "stopped at the 17th reference (17 x 60,000 > 1,000,000)");
  });

  it("counts tool calls and the stored conversation against the limit too", () => {
    const earlier: ChatMessage[] = [{ role: "user", content: "z".repeat(900) }];
    const lookup: ItemLookup = { item: () => undefined, conversation: () => earlier };
    const body = responsesBodySchema.parse({
      model: "medium_ai",
      previous_response_id: "resp_1",
      input: [{ type: "function_call", call_id: "c1", name: "f", arguments: "a".repeat(200) }],
    });
    assert.throws(() => convertResponsesRequest(body, lookup, 1_000), /more than 1000 characters/);
    assert.equal(convertResponsesRequest(body, lookup, 1_101).conversation.length, 2);
  });

  it("refuses more input items than the limit before validating them one by one", () => {
    assertInputItemCount({ input: Array.from({ length: maxInputItems }) });
    assertInputItemCount({ input: "a string" });
    assertInputItemCount(null);
    assert.throws(
      () => assertInputItemCount({ input: Array.from({ length: maxInputItems + 1 }) }),
      (error: unknown) =>
        OrchestratorError.isInstance(error) &&
        error.status === 400 &&
        error.field === "input" &&
        /4097 items, more than the limit of 4096/.test(error.message),
    );
  });
});
