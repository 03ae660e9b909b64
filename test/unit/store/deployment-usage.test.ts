import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { Clock } from "../../../src/core/clock.ts";
import type { Store } from "../../../src/store/store.ts";
import { storeBackends } from "../../support/store-backends.ts";
import { ledgerEntry } from "../../support/upstream-call.ts";

const fixedClock: Clock = { now: () => 0, isoNow: () => "2026-01-01T00:00:00.000Z" };
const model = "meta-llama/llama-3.3-70b-instruct";

for (const backend of storeBackends("deployment-usage", fixedClock))
  describe(`calls by deployment (${backend.name})`, { skip: backend.skip ?? false }, () => {
    let store: Store;
    let drop: () => Promise<void>;
    beforeEach(async () => {
      ({ store, drop } = await backend.open());
    });
    afterEach(async () => {
      await store.close();
      await drop();
    });

    it("keeps one model id on two providers apart, by outcome, within the window", async () => {
      const on = (provider: string, overrides: Parameters<typeof ledgerEntry>[0] = {}) =>
        ledgerEntry({ model, provider, promptTokens: 100, completionTokens: 10, ...overrides });
      await store.usage.recordCalls([
        on("local", { costUsd: 0 }),
        on("local", { costUsd: 0, cacheReadTokens: 64 }),
        on("local", { outcome: "transient", promptTokens: 0, completionTokens: 0, costUsd: 0 }),
        on("openrouter", { costUsd: 0.25 }),
        on("openrouter", { costUsd: 0.5, at: "2025-12-31T23:59:59.999Z" }),
      ]);
      const rows = await store.usage.callsByDeployment("2026-01-01T00:00:00.000Z");
      assert.deepEqual(rows, [
        {
          provider: "local",
          model,
          outcome: "ok",
          calls: 2,
          promptTokens: 200,
          completionTokens: 20,
          cacheReadTokens: 64,
          costUsd: 0,
        },
        {
          provider: "local",
          model,
          outcome: "transient",
          calls: 1,
          promptTokens: 0,
          completionTokens: 0,
          cacheReadTokens: 0,
          costUsd: 0,
        },
        {
          provider: "openrouter",
          model,
          outcome: "ok",
          calls: 1,
          promptTokens: 100,
          completionTokens: 10,
          cacheReadTokens: 0,
          costUsd: 0.25,
        },
      ]);
      // The per-model view still merges them: one model id, whichever provider answered.
      const byModel = await store.usage.callsByModel("2026-01-01T00:00:00.000Z");
      assert.deepEqual(
        byModel
          .map((r) => [r.model, r.outcome, r.calls])
          .sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
        [
          [model, "ok", 3],
          [model, "transient", 1],
        ],
      );
    });
  });
