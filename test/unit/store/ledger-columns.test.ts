import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, it } from "node:test";
import { systemClock } from "../../../src/core/clock.ts";
import { openStore } from "../../../src/store/open-store.ts";
import { upstreamCall } from "../../support/upstream-call.ts";

// Every field of a ledger entry reaches its column: read back from the file itself, since some columns (such as
// reasoning tokens) are written for operators' own queries and no store method reads them.
describe("ledger columns", () => {
  it("writes reasoning tokens, the client id and the route's rule of each call", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "ledger-columns-"));
    const store = await openStore({ dataDir }, systemClock);
    await store.usage.recordCalls([
      {
        ...upstreamCall({ reasoningTokens: 321 }),
        at: "2026-01-01T00:00:00.000Z",
        requestId: null,
        endpoint: null,
        sessionId: null,
        workflowId: null,
        category: null,
        baselineUsd: 0,
        clientId: "client-digest",
        routeRule: "category",
      },
    ]);
    await store.close();
    const db = new DatabaseSync(join(dataDir, "orchestrator.sqlite"), { readOnly: true });
    try {
      const row = db.prepare("select reasoning_tokens, client_id, route_rule from upstream_calls").get();
      assert.deepEqual(
        { ...row },
        { reasoning_tokens: 321, client_id: "client-digest", route_rule: "category" },
      );
    } finally {
      db.close();
    }
  });
});
