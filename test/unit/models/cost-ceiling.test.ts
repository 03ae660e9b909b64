import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../../src/config/index.ts";
import type { Clock } from "../../../src/core/clock.ts";
import { LiveCatalog, parseModelList } from "../../../src/models/live-catalog.ts";
import { ModelCatalog } from "../../../src/models/model-catalog.ts";

const clock: Clock = { now: () => 0, isoNow: () => "2026-11-25T10:00:00.000Z" };

async function catalogListing(models: unknown[]): Promise<ModelCatalog> {
  const config = parseConfig({ budgets: { unknownModel: { inputPerMillion: 10, outputPerMillion: 40 } } });
  const catalog = new ModelCatalog(config.models, { unknownModel: config.budgets.unknownModel });
  const live = new LiveCatalog({
    fetchModels: async () => ({ data: models }),
    configured: new Map(),
    refreshMs: 0,
    clock,
  });
  catalog.attachLive(live);
  await live.start();
  return catalog;
}

describe("cost ceilings for budget reservations", () => {
  it("reads the longest answer of a listed model from its provider's maximum output, else its window", async () => {
    const catalog = await catalogListing([
      {
        id: "acme/long",
        context_length: 131_072,
        top_provider: { max_completion_tokens: 8192 },
        pricing: { prompt: "0.000001", completion: "0.000002" },
      },
      { id: "acme/window", context_length: 32_000, pricing: { prompt: "0.000001", completion: "0.000002" } },
    ]);
    const long = catalog.passthrough("acme/long");
    assert.deepEqual(catalog.ceilingOf("acme/long", long), {
      inputPerMillion: 1,
      outputPerMillion: 2,
      maxOutputTokens: 8192,
      contextWindow: 131_072,
    });
    assert.equal(
      catalog.ceilingOf("acme/window", catalog.passthrough("acme/window")).maxOutputTokens,
      32_000,
    );
    assert.equal(
      parseModelList({ data: [{ id: "a/b", top_provider: null }] })[0]?.maxCompletionTokens,
      undefined,
    );
  });

  it("prices a model no list knows at budgets.unknownModel, never at $0", async () => {
    const catalog = await catalogListing([]);
    assert.deepEqual(catalog.ceilingOf("acme/unlisted", catalog.passthrough("acme/unlisted")), {
      inputPerMillion: 10,
      outputPerMillion: 40,
      maxOutputTokens: 32_768,
      contextWindow: undefined,
    });
  });

  it("keeps a role's own figures for its own model", async () => {
    const catalog = await catalogListing([]);
    const fast = catalog.require("fast_ai");
    assert.deepEqual(catalog.ceilingOf(fast.definition.model, fast), {
      inputPerMillion: 0.075,
      outputPerMillion: 0.3,
      maxOutputTokens: 1024,
      contextWindow: 131_072,
    });
  });
});
