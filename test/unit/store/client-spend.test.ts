import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { Clock } from "../../../src/core/clock.ts";
import type { Store } from "../../../src/store/store.ts";
import type { LedgerEntry } from "../../../src/store/usage-store.ts";
import { type Query, storeBackends } from "../../support/store-backends.ts";
import { ledgerEntry } from "../../support/upstream-call.ts";

const fixedClock: Clock = { now: () => 0, isoNow: () => "2026-01-01T00:00:00.000Z" };

const call = (overrides: Partial<LedgerEntry>): LedgerEntry =>
  ledgerEntry({ requestId: "r", endpoint: "/v1/chat/completions", category: null, ...overrides });

const backends = storeBackends("client-spend", fixedClock);

for (const backend of backends)
  describe(`client spend in the ledger (${backend.name})`, { skip: backend.skip ?? false }, () => {
    let store: Store;
    let query: Query;
    let drop: () => Promise<void>;
    beforeEach(async () => {
      ({ store, query, drop } = await backend.open());
    });
    afterEach(async () => {
      await store.close();
      await drop();
    });

    it("keeps the client of each call and sums one client's spend since a time", async () => {
      await store.usage.recordCalls([
        call({ clientId: "alice-id", costUsd: 0.25 }),
        call({ clientId: "alice-id", costUsd: 0.5, at: "2026-01-01T23:59:59.000Z" }),
        call({ clientId: "bob-id", costUsd: 1 }),
        call({ costUsd: 2 }),
      ]);
      const since = "2026-01-02T00:00:00.000Z";
      assert.equal(await store.usage.spentUsd({ since, clientId: "alice-id" }), 0.25);
      assert.equal(await store.usage.spentUsd({ clientId: "alice-id" }), 0.75);
      assert.equal(await store.usage.spentUsd({ since, clientId: "carol-id" }), 0);
      assert.equal(await store.usage.spentUsd({ since }), 3.25);
    });

    it("reads a client's spend through an index of the calls made for a client", async () => {
      if (backend.name === "SQLite") {
        const plan = await query(`explain query plan select sum(cost_usd) from upstream_calls
          where client_id = 'alice-id' and at >= '2026-01-02'`);
        assert.match(plan.map((r) => r.detail).join("\n"), /upstream_calls_by_client/);
      } else {
        const indexes = await query(`select indexdef from pg_indexes
          where schemaname = current_schema() and indexname = 'upstream_calls_by_client'`);
        assert.match(String(indexes[0]?.indexdef), /\(client_id, at\) WHERE \(client_id IS NOT NULL\)/);
      }
    });
  });
