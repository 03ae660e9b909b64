import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clip } from "../../../src/core/clip.ts";

describe("clip", () => {
  it("leaves text that fits alone and marks text that was cut", () => {
    assert.equal(clip("short", 5), "short");
    assert.equal(clip("longer", 4), "long […]");
    assert.equal(clip("longer", 4, "…"), "long…");
  });
});
