import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chatCompletionBodySchema } from "../../../src/api/openai/openai-schemas.ts";
import { parseInput, schemaForFieldsPresent } from "../../../src/api/validation.ts";
import { OrchestratorError } from "../../../src/core/errors.ts";

const messages = [{ role: "user", content: "Hello" }];

// The outcome of parsing a body: the value, or the refusal's field and message.
function outcome(schema: Parameters<typeof parseInput>[0], body: unknown): unknown {
  try {
    return { value: parseInput(schema, body) };
  } catch (error) {
    assert.ok(OrchestratorError.isInstance(error));
    return { field: error.field, message: error.message };
  }
}

describe("schemaForFieldsPresent", () => {
  const schemaFor = schemaForFieldsPresent(chatCompletionBodySchema);

  it("parses every body as the whole schema does: values, defaults left out, and the first error", () => {
    const bodies: unknown[] = [
      { model: "medium_ai", messages },
      { model: "medium_ai", messages, temperature: 0.2, max_tokens: 64, stream: false, seed: null },
      { messages, model: "auto", top_p: 0.5, metadata: { a: "b" }, stop: ["x"] },
      // A field's own error, an unknown field, a missing required one, a body that is no object.
      { model: "medium_ai", messages, temperature: 9 },
      { model: "medium_ai", messages, temprature: 0.2 },
      { messages },
      { model: "", messages: [] },
      { model: "medium_ai", messages: [{ role: "robot", content: "hi" }] },
      [],
      "text",
    ];
    for (const body of bodies) {
      assert.deepEqual(
        outcome(schemaFor(body), body),
        outcome(chatCompletionBodySchema, body),
        JSON.stringify(body),
      );
    }
  });

  it("picks the schema down to the fields present and the required ones, once per set of fields", () => {
    const first = schemaFor({ model: "m", messages });
    assert.deepEqual(Object.keys(first.shape), ["model", "messages"]);
    assert.equal(schemaFor({ messages: [], model: "other" }), first);
    assert.deepEqual(Object.keys(schemaFor({ temperature: 1 }).shape), ["model", "messages", "temperature"]);
  });

  it("gives the whole schema for unknown fields, for what is not an object, and past its number of variants", () => {
    assert.equal(schemaFor({ model: "m", messages, unknown: 1 }), chatCompletionBodySchema);
    assert.equal(schemaFor(null), chatCompletionBodySchema);
    const bounded = schemaForFieldsPresent(chatCompletionBodySchema, 1);
    assert.notEqual(bounded({ model: "m", messages }), chatCompletionBodySchema);
    assert.equal(bounded({ model: "m", messages, seed: 1 }), chatCompletionBodySchema);
    // Variants already made are still used.
    assert.notEqual(bounded({ model: "n", messages }), chatCompletionBodySchema);
  });
});
