import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../../src/config/index.ts";

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
