import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { Clock } from "../../../src/core/clock.ts";
import type { Store } from "../../../src/store/store.ts";
import { type Query, storeBackends } from "../../support/store-backends.ts";
import { ledgerEntry, requestEntry } from "../../support/upstream-call.ts";

const fixedClock: Clock = { now: () => 0, isoNow: () => "2026-01-01T00:00:00.000Z" };

const call = ledgerEntry;
const request = requestEntry;

const trace = [
  { step: "limit", detail: "context 14 tokens, within 900000" },
  { step: "categorizer", detail: "the categorizer said M", ms: 113.6 },
  { step: "pick", detail: "medium_ai (some/model)" },
] as const;

const backends = storeBackends("request-record", fixedClock);

for (const backend of backends)
  describe(`one request's record (${backend.name})`, { skip: backend.skip ?? false }, () => {
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

    it("reads back the request row with its trace, its calls in order and the run it started", async () => {
      await store.createRun({ id: "run-1", sessionId: null, kind: "chat", request: {}, owner: "alice-id" });
      await store.usage.recordUsage(
        [
          call({ purpose: "categorize", clientId: "alice-id", costUsd: 0.001 }),
          call({ purpose: "answer", clientId: "alice-id", promptTokens: 7, reasoningTokens: 3 }),
          call({ purpose: "task", clientId: "alice-id", workflowId: "run-1" }),
          call({ requestId: "req-2", clientId: "alice-id" }),
        ],
        [
          request({ clientId: "alice-id", routeTrace: trace, workflowId: "run-1" }),
          request({ requestId: "req-2", clientId: "alice-id" }),
        ],
      );
      const record = await store.usage.requestRecord("req-1", "alice-id");
      assert.equal(record.requests.length, 1);
      const [row] = record.requests;
      assert.equal(row?.routeRule, "category");
      assert.equal(row?.category, "M");
      assert.equal(row?.latencyMs, 12.5);
      assert.equal(row?.workflowId, "run-1");
      assert.deepEqual(row?.routeTrace, [
        { step: "limit", detail: "context 14 tokens, within 900000" },
        { step: "categorizer", detail: "the categorizer said M", ms: 114 },
        { step: "pick", detail: "medium_ai (some/model)" },
      ]);
      assert.deepEqual(
        record.calls.map((c) => [c.purpose, c.costUsd, c.promptTokens, c.reasoningTokens, c.workflowId]),
        [
          ["categorize", 0.001, 1_000_000, 0, null],
          ["answer", 0.01, 7, 3, null],
          ["task", 0.01, 1_000_000, 0, "run-1"],
        ],
      );
      assert.deepEqual(record.runs, [{ id: "run-1", status: "running" }]);
    });

    it("reads only the rows of the client asking, in the query itself", async () => {
      await store.usage.recordUsage(
        [call({ clientId: "alice-id" }), call({ clientId: "bob-id" }), call({ clientId: null })],
        [request({ clientId: "alice-id" }), request({ clientId: "bob-id", at: "2026-01-02T10:00:02.000Z" })],
      );
      const alice = await store.usage.requestRecord("req-1", "alice-id");
      assert.equal(alice.requests.length, 1);
      assert.equal(alice.calls.length, 1);
      assert.equal(alice.calls[0]?.clientId, "alice-id");
      const carol = await store.usage.requestRecord("req-1", "carol-id");
      assert.deepEqual(carol, { requests: [], calls: [], runs: [] });
      // Open mode sees what was made in open mode only.
      const open = await store.usage.requestRecord("req-1", null);
      assert.equal(open.requests.length, 0);
      assert.equal(open.calls.length, 1);
      assert.equal(await store.usage.requestRecord("unknown", "alice-id").then((r) => r.calls.length), 0);
    });

    it("lists the newest of the requests that shared an id first", async () => {
      await store.usage.recordRequests([
        request({ at: "2026-01-02T10:00:01.000Z", endpoint: "/chat" }),
        request({ at: "2026-01-02T10:00:05.000Z", endpoint: "/v1/chat/completions" }),
      ]);
      const record = await store.usage.requestRecord("req-1", null);
      assert.deepEqual(
        record.requests.map((r) => r.endpoint),
        ["/v1/chat/completions", "/chat"],
      );
    });

    it("finds a request's rows through indexes of the request id", async () => {
      if (backend.name === "SQLite") {
        const calls = await query("explain query plan select * from upstream_calls where request_id = 'r'");
        assert.match(calls.map((r) => r.detail).join("\n"), /upstream_calls_by_request/);
        const requests = await query("explain query plan select * from api_requests where request_id = 'r'");
        assert.match(requests.map((r) => r.detail).join("\n"), /api_requests_by_request/);
      } else {
        const indexes = await query(`select indexname, indexdef from pg_indexes
          where schemaname = current_schema() and indexname in ('upstream_calls_by_request', 'api_requests_by_request')
          order by indexname`);
        assert.deepEqual(
          indexes.map((r) => r.indexname),
          ["api_requests_by_request", "upstream_calls_by_request"],
        );
        assert.match(String(indexes[1]?.indexdef), /\(request_id\) WHERE \(request_id IS NOT NULL\)/);
      }
    });
  });
