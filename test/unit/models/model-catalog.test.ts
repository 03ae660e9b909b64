import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../../src/config/index.ts";
import { costOf, ModelCatalog } from "../../../src/models/model-catalog.ts";

const catalog = new ModelCatalog(parseConfig({}).models);

describe("ModelCatalog", () => {
  it("follows aliases to roles", () => {
    assert.equal(catalog.resolve("research_ai")?.role, "thinking_ai");
    assert.equal(catalog.resolve("product_ai")?.definition.model, "meta-llama/llama-3.3-70b-instruct");
    assert.equal(catalog.resolve("nobody_ai"), undefined);
    assert.throws(() => catalog.require("nobody_ai"), /nobody_ai.*known roles/);
  });

  it("prices a call from the upstream's figure, else from list prices", () => {
    const thinking = catalog.require("thinking_ai").definition;
    assert.equal(
      costOf(thinking, { promptTokens: 1_000_000, completionTokens: 0, reportedCostUsd: 0.123 }),
      0.123,
    );
    assert.equal(costOf(thinking, { promptTokens: 1_000_000, completionTokens: 1_000_000 }), 0.684 + 3.42);
    assert.ok(Math.abs(costOf(thinking, { promptTokens: 1000, completionTokens: 500 }) - 0.002394) < 1e-12);
  });
});
