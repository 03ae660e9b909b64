import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isUuid, timeOrderedId } from "../../../src/core/ids.ts";

describe("timeOrderedId", () => {
  it("is a version 7 UUID whose first 48 bits are the time in milliseconds", () => {
    const at = Date.UTC(2026, 10, 30, 12, 0, 0, 123);
    const id = timeOrderedId(at);
    assert.ok(isUuid(id), id);
    assert.equal(id[14], "7", "version digit");
    assert.match(id[19] ?? "", /[89ab]/, "RFC 9562 variant");
    assert.equal(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16), at);
  });

  it("sorts ids made in later milliseconds after earlier ones, as text", () => {
    const start = Date.UTC(2026, 0, 1);
    const ids = Array.from({ length: 2_000 }, (_, i) => timeOrderedId(start + i * 7));
    assert.deepEqual([...ids].sort(), ids);
  });

  it("keeps 74 random bits: ids made in the same millisecond differ", () => {
    const at = Date.now();
    const ids = new Set(Array.from({ length: 10_000 }, () => timeOrderedId(at)));
    assert.equal(ids.size, 10_000);
    const randomParts = new Set([...ids].map((id) => id.slice(15)));
    assert.equal(randomParts.size, 10_000);
  });

  it("keeps the layout at the ends of its time range", () => {
    for (const at of [0, 2 ** 48 - 1]) {
      const id = timeOrderedId(at);
      assert.ok(isUuid(id), id);
      assert.equal(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16), at);
    }
  });
});
