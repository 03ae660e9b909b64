import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseCategory } from "../../../src/routing/parse-category.ts";

describe("parseCategory", () => {
  const cases: ReadonlyArray<[string, string | undefined]> = [
    ["H", "H"],
    [" m\n", "M"],
    ["L.", "L"],
    ["**H**", "H"],
    ['{"category": "M"}', "M"],
    ['```json\n{"complexity":"high","reason":"many parts"}\n```', "H"],
    ["Category: L", "L"],
    ["The complexity is medium because it asks one question.", "M"],
    ["I would classify this as H.", "H"],
    ["<think>It could be L or M... it's M</think>M", "M"],
    ["Classification - high", "H"],
    ["", undefined],
    ["I cannot decide", undefined],
    ["Either L or H", undefined],
    ['{"category": "X"}', undefined],
  ];
  for (const [answer, expected] of cases) {
    it(`reads ${JSON.stringify(answer)} as ${expected ?? "unusable"}`, () => {
      assert.equal(parseCategory(answer), expected);
    });
  }
});
