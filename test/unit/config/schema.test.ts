import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../../src/config/index.ts";
import { ModelCatalog } from "../../../src/models/model-catalog.ts";
import { cachePricesOf } from "../../../src/models/prompt-cache-pricing.ts";

describe("system settings of the API edge", () => {
  it("caps JSON nesting at 64 by default, within sane bounds", () => {
    assert.equal(parseConfig({}).system.maxJsonDepth, 64);
    assert.equal(parseConfig({ system: { maxJsonDepth: 128 } }).system.maxJsonDepth, 128);
    for (const depth of [0, 4, 10_000, 1.5]) {
      assert.throws(() => parseConfig({ system: { maxJsonDepth: depth } }), /maxJsonDepth/);
    }
  });

  it("takes publicUrl only as an absolute http(s) URL, without its trailing slash", () => {
    assert.equal(parseConfig({}).system.publicUrl, undefined);
    assert.equal(
      parseConfig({ system: { publicUrl: "https://gateway.example.com/ai/" } }).system.publicUrl,
      "https://gateway.example.com/ai",
    );
    for (const url of [
      "gateway.example.com",
      "/ai",
      "ftp://gateway.example.com",
      "https://",
      "https://a b",
    ]) {
      assert.throws(() => parseConfig({ system: { publicUrl: url } }), /publicUrl/, url);
    }
  });
});

describe("model pricing", () => {
  it("takes optional prompt-cache prices, priced at them in place of the default multipliers", () => {
    const pricing = {
      inputPerMillion: 3,
      outputPerMillion: 15,
      cacheReadPerMillion: 0.3,
      cacheWritePerMillion: 3.75,
    };
    const config = parseConfig({ models: { medium_ai: { model: "vendor/cached-model", pricing } } });
    const medium = new ModelCatalog(config.models).require("medium_ai");
    assert.deepEqual(medium.definition.pricing, pricing);
    assert.deepEqual(cachePricesOf(medium.definition.pricing), {
      readPerMillion: 0.3,
      writePerMillion: 3.75,
    });
    const plain = parseConfig({
      models: { medium_ai: { model: "vendor/plain", pricing: { inputPerMillion: 2, outputPerMillion: 8 } } },
    });
    assert.deepEqual(cachePricesOf(new ModelCatalog(plain.models).require("medium_ai").definition.pricing), {
      readPerMillion: 1,
      writePerMillion: 2.5,
    });
  });

  it("refuses a negative or misspelt cache price, naming it", () => {
    assert.throws(
      () =>
        parseConfig({
          models: {
            medium_ai: {
              model: "v/m",
              pricing: { inputPerMillion: 1, outputPerMillion: 1, cacheReadPerMillion: -1 },
            },
          },
        }),
      /cacheReadPerMillion/,
    );
    assert.throws(
      () =>
        parseConfig({
          models: {
            medium_ai: {
              model: "v/m",
              pricing: { inputPerMillion: 1, outputPerMillion: 1, cacheReadPerMilion: 1 },
            },
          },
        }),
      /cacheReadPerMilion/,
    );
  });
});
