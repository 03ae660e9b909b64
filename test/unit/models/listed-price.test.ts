import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { vetListedPrice } from "../../../src/models/listed-price.ts";
import { parseModelList } from "../../../src/models/live-catalog.ts";

const builtIn = { inputPerMillion: 0.1, outputPerMillion: 0.32 };
const prices = (input: number, output = input) => ({ inputPerMillion: input, outputPerMillion: output });

describe("vetListedPrice", () => {
  it("believes a price within range and within 10x of the built-in one", () => {
    assert.deepEqual(vetListedPrice("a/b", prices(0.2, 0.5), builtIn), {
      accepted: true,
      pricing: prices(0.2, 0.5),
    });
    assert.equal(vetListedPrice("a/b", prices(0.011, 3.1), builtIn).accepted, true);
    assert.equal(
      vetListedPrice("new/model", prices(600), undefined).accepted,
      true,
      "no built-in: range only",
    );
  });

  const refused: ReadonlyArray<
    [string, string, ReturnType<typeof prices>, typeof builtIn | undefined, RegExp]
  > = [
    ["1e300", "a/b", prices(1e306), builtIn, /outside/],
    ["Infinity", "a/b", prices(Number.POSITIVE_INFINITY), builtIn, /not a price/],
    ["1e-20", "a/b", prices(1e-14), builtIn, /outside/],
    ["zero, not free", "a/b", prices(0), builtIn, /zero for a model that is not free/],
    ["zero, no built-in", "new/model", prices(0), undefined, /zero/],
    ["11x the built-in", "a/b", prices(1.1, 0.32), builtIn, /input .* more than 10× off/],
    ["a tenth and less", "a/b", prices(0.1, 0.03), builtIn, /output .* more than 10× off/],
  ];
  for (const [what, model, listed, reference, reason] of refused) {
    it(`refuses ${what}`, () => {
      const verdict = vetListedPrice(model, listed, reference);
      assert.equal(verdict.accepted, false);
      assert.match(verdict.accepted ? "" : verdict.reason, reason);
    });
  }

  it("believes a zero for a ':free' variant, or where the built-in price is zero too", () => {
    assert.equal(vetListedPrice("vendor/model:free", prices(0), builtIn).accepted, true);
    assert.equal(vetListedPrice("vendor/model:free", prices(0), undefined).accepted, true);
    assert.equal(vetListedPrice("openai/embed", prices(0.02, 0), prices(0.02, 0)).accepted, true);
  });
});

describe("parseModelList against the built-in prices", () => {
  it("drops a price it does not believe, says which, and keeps the rest of the entry", () => {
    const refusedIds: string[] = [];
    const listed = parseModelList(
      {
        data: [
          { id: "a/b", pricing: { prompt: "1e300", completion: "1e300" }, context_length: 4096 },
          { id: "c/d", pricing: { prompt: "0", completion: "0" } },
          { id: "c/d:free", pricing: { prompt: "0", completion: "0" } },
          { id: "e/f", pricing: { prompt: "0x10", completion: "" } },
          { id: "g/h", pricing: { prompt: "0.0000002", completion: "0.0000004" } },
          { id: "x".repeat(300), pricing: { prompt: "0.0000002", completion: "0.0000004" } },
          { id: "i/j", context_length: 1e300, supported_parameters: "tools" },
        ],
      },
      {
        builtInPricing: (model) => (model === "a/b" || model === "c/d" ? builtIn : undefined),
        onRefusedPrice: (model) => refusedIds.push(model),
      },
    );
    assert.deepEqual(
      listed.map((m) => [m.id, m.pricing, m.contextLength, m.supportedParameters]),
      [
        ["a/b", undefined, 4096, []],
        ["c/d", undefined, undefined, []],
        ["c/d:free", prices(0), undefined, []],
        ["e/f", undefined, undefined, []],
        ["g/h", prices(0.2, 0.4), undefined, []],
        ["i/j", undefined, undefined, []],
      ],
    );
    assert.deepEqual(refusedIds, ["a/b", "c/d"]);
  });
});

describe("listed prompt-cache prices", () => {
  const entry = (pricing: Record<string, string>) => ({
    data: [{ id: "anthropic/claude-x", pricing: { prompt: "0.000003", completion: "0.000015", ...pricing } }],
  });

  it("reads input_cache_read and input_cache_write per token into prices per million", () => {
    const [model] = parseModelList(entry({ input_cache_read: "0.0000003", input_cache_write: "0.00000375" }));
    assert.deepEqual(model?.pricing, {
      inputPerMillion: 3,
      outputPerMillion: 15,
      cacheReadPerMillion: 0.3,
      cacheWritePerMillion: 3.75,
    });
    const [uncached] = parseModelList(entry({}));
    assert.deepEqual(uncached?.pricing, { inputPerMillion: 3, outputPerMillion: 15 }, "absent: not priced");
  });

  it("drops a cache price out of line with the input price, keeps the rest, and says why", () => {
    const refused: string[] = [];
    for (const [read, write] of [
      ["0.000004", "0.00000375"], // a read dearer than uncached input
      ["0", "0.00000375"], // a free read on a paid model
      ["0.0000003", "0.0003"], // a write at 100× the input price
      ["1e300", "Infinity"],
    ] as const) {
      const [model] = parseModelList(entry({ input_cache_read: read, input_cache_write: write }), {
        onRefusedPrice: (_id, reason) => refused.push(reason),
      });
      assert.equal(model?.pricing?.inputPerMillion, 3, "the input and output prices stand");
      const believed = {
        read: model?.pricing?.cacheReadPerMillion,
        write: model?.pricing?.cacheWritePerMillion,
      };
      assert.ok(believed.read === undefined || believed.write === undefined, JSON.stringify(believed));
    }
    assert.equal(refused.length, 5);
    assert.ok(
      refused.every((reason) => /^cache (read|write) price .* the default multiplier stands in/.test(reason)),
    );
  });

  it("believes a zero cache price only for a free model", () => {
    const free = {
      data: [
        {
          id: "vendor/model:free",
          pricing: { prompt: "0", completion: "0", input_cache_read: "0", input_cache_write: "0" },
        },
      ],
    };
    assert.deepEqual(parseModelList(free)[0]?.pricing, {
      inputPerMillion: 0,
      outputPerMillion: 0,
      cacheReadPerMillion: 0,
      cacheWritePerMillion: 0,
    });
  });
});
