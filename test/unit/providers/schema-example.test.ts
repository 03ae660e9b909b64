import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { exampleOf } from "../../../src/providers/simulated/schema-example.ts";

// Each example must pass the schema it was made from, checked by zod's own JSON-schema reading.
function assertSatisfies(schema: Record<string, unknown>) {
  const value = exampleOf(schema);
  const result = z.fromJSONSchema(schema as never).safeParse(value);
  assert.ok(result.success, `${JSON.stringify(value)} does not satisfy ${JSON.stringify(schema)}`);
  return value;
}

describe("schema examples (offline structured output)", () => {
  it("fills every property of an object with a value of its type", () => {
    const value = assertSatisfies({
      type: "object",
      properties: {
        name: { type: "string", minLength: 12 },
        age: { type: "integer", minimum: 18, maximum: 99 },
        score: { type: "number", exclusiveMinimum: 0 },
        active: { type: "boolean" },
        tags: { type: "array", items: { type: "string" }, minItems: 2 },
        kind: { enum: ["a", "b"] },
        version: { const: 3 },
        when: { type: "string", format: "date-time" },
        email: { type: "string", format: "email" },
      },
      required: ["name", "age", "score", "active", "tags", "kind", "version", "when", "email"],
      additionalProperties: false,
    });
    assert.deepEqual(Object.keys(value as object).length, 9);
  });

  it("follows nullable types, anyOf, allOf and local $refs", () => {
    assertSatisfies({
      type: "object",
      properties: {
        maybe: { type: ["string", "null"] },
        either: { anyOf: [{ type: "null" }, { type: "number" }] },
        both: { allOf: [{ type: "object", properties: { a: { type: "string" } }, required: ["a"] }] },
        person: { $ref: "#/$defs/person" },
      },
      required: ["maybe", "either", "both", "person"],
      $defs: {
        person: {
          type: "object",
          properties: {
            name: { type: "string" },
            friends: { type: "array", items: { $ref: "#/$defs/person" } },
          },
          required: ["name"],
        },
      },
    });
  });

  it("stops at a depth limit on a schema that refers to itself", () => {
    const value = exampleOf({ $ref: "#" });
    assert.equal(value, null);
  });
});
