import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { interpolate, interpolatedLength } from "../../../src/workflows/interpolate.ts";

describe("interpolatedLength", () => {
  it("equals the length interpolate produces, literal braces included", () => {
    const values = { a: "12345", b: "" };
    for (const template of ["{a}", "x{a}y{b}z", "{{a}} {a}{a}", '{"json": {a}}', "}} {{", "{unknown"]) {
      assert.equal(
        interpolatedLength(template, (name) => values[name as "a" | "b"]?.length),
        interpolate(template, values).length,
        template,
      );
    }
  });

  it("measures a prompt that could never be built", () => {
    const huge = 1_000_000_000;
    assert.equal(
      interpolatedLength("{a}".repeat(600), () => huge),
      600 * huge,
    );
  });
});
