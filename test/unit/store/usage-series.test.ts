import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { Clock } from "../../../src/core/clock.ts";
import { openStore } from "../../../src/store/open-store.ts";
import type { Store } from "../../../src/store/store.ts";
import type { LedgerEntry, RequestEntry, ShadowSampleEntry } from "../../../src/store/usage-store.ts";
import { freshPostgresSchema, postgresSkipReason, postgresUrl } from "../../support/services.ts";
import { upstreamCall } from "../../support/upstream-call.ts";

const fixedClock: Clock = { now: () => 0, isoNow: () => "2026-01-01T00:00:00.000Z" };

const call = (overrides: Partial<LedgerEntry>): LedgerEntry => ({
  ...upstreamCall({ costUsd: 0.01 }),
  at: "2026-01-02T10:15:00.000Z",
  requestId: "r",
  endpoint: "/chat",
  sessionId: null,
  workflowId: null,
  category: "M",
  baselineUsd: 0.05,
  ...overrides,
});

const request = (overrides: Partial<RequestEntry>): RequestEntry => ({
  at: "2026-01-02T10:15:00.000Z",
  requestId: "r",
  method: "POST",
  endpoint: "/chat",
  status: 200,
  category: "M",
  latencyMs: 5,
  cacheHit: false,
  sessionId: null,
  routeRule: "category",
  ...overrides,
});

const sample = (
  at: string,
  verdict: ShadowSampleEntry["verdict"],
  status: ShadowSampleEntry["status"] = "judged",
) =>
  ({
    at,
    requestId: null,
    sessionId: null,
    category: "M",
    routedRole: "medium_ai",
    routedModel: "m",
    baselineRole: "thinking_ai",
    baselineModel: "t",
    judgeModel: "j",
    status,
    verdict,
    reason: null,
    routedFirst: true,
    errorCode: null,
    costUsd: 0.001,
  }) satisfies ShadowSampleEntry;

const backends: ReadonlyArray<{
  name: string;
  skip?: string;
  open: () => Promise<{ store: Store; drop: () => Promise<void> }>;
}> = [
  {
    name: "SQLite",
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), "usage-series-"));
      const store = await openStore(
        { dataDir: dir, databaseUrl: `sqlite:${join(dir, "s.sqlite")}` },
        fixedClock,
      );
      return {
        store, // A closing store's files may still be going away for a moment.
        drop: async () => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }),
      };
    },
  },
  {
    name: "PostgreSQL",
    ...(postgresUrl ? {} : { skip: postgresSkipReason }),
    open: async () => {
      const schema = await freshPostgresSchema();
      return {
        store: await openStore({ dataDir: ".", databaseUrl: schema.url }, fixedClock),
        drop: schema.drop,
      };
    },
  },
];

for (const backend of backends)
  describe(`the /stats series from the ledger (${backend.name})`, { skip: backend.skip ?? false }, () => {
    let store: Store;
    let drop: () => Promise<void>;
    beforeEach(async () => {
      ({ store, drop } = await backend.open());
    });
    afterEach(async () => {
      await store.close();
      await drop();
    });

    const record = async () => {
      await store.usage.recordCalls([
        call({ model: "m", costUsd: 0.01 }),
        call({ model: "m", costUsd: 0.02, at: "2026-01-02T10:59:59.999Z", requestId: "r2" }),
        call({ model: "t", costUsd: 0.04, escalation: "empty" }),
        call({ model: "t", costUsd: 0.5, shadow: true, baselineUsd: 0, requestId: "r3" }),
        call({ model: "m", outcome: "cached", costUsd: 0, at: "2026-01-02T11:00:00.000Z" }),
        // A page's warm-up: a call, but no answer of a request.
        call({ model: "w", purpose: "warmup", costUsd: 0, requestId: "page" }),
        call({
          model: "m",
          purpose: "speculative",
          costUsd: 0.003,
          baselineUsd: 0,
          at: "2026-01-02T11:30:00.000Z",
        }),
        call({ model: "m", costUsd: 0.07, at: "2026-01-03T02:00:00.000Z" }),
        // Before the window.
        call({ model: "m", costUsd: 9, at: "2026-01-02T09:59:59.999Z" }),
      ]);
      await store.usage.recordRequests([
        request({}),
        request({ category: "L", routeRule: "memo", at: "2026-01-02T10:30:00.000Z" }),
        request({
          category: null,
          routeRule: null,
          endpoint: "/v1/chat/completions",
          at: "2026-01-02T11:01:00.000Z",
        }),
        request({ category: "M", cacheHit: true, routeRule: "cache", at: "2026-01-03T02:00:00.000Z" }),
      ]);
      for (const [at, verdict] of [
        ["2026-01-02T10:20:00.000Z", "better"],
        ["2026-01-02T10:21:00.000Z", "worse"],
        ["2026-01-02T10:22:00.000Z", "equal"],
        ["2026-01-03T02:22:00.000Z", "equal"],
      ] as const)
        await store.usage.recordShadowSample(sample(at, verdict));
      await store.usage.recordShadowSample(sample("2026-01-02T10:23:00.000Z", null, "unparsed"));
    };

    it("groups calls, requests and judged verdicts by the hour their time falls in", async () => {
      await record();
      const rows = await store.usage.seriesRows("2026-01-02T10:00:00.000Z", "hour");
      const calls = rows.calls.map((r) => ({ ...r, costUsd: Math.round(r.costUsd * 1e6) / 1e6 }));
      const at = (bucket: string, model: string, shadow: boolean) =>
        calls.find((r) => r.bucket === bucket && r.model === model && r.shadow === shadow);
      assert.deepEqual(at("2026-01-02T10", "m", false), {
        bucket: "2026-01-02T10",
        model: "m",
        shadow: false,
        calls: 2,
        costUsd: 0.03,
        baselineUsd: 0.1,
        cacheHits: 0,
        escalations: 0,
        speculativeCalls: 0,
        speculativeUsd: 0,
      });
      assert.equal(at("2026-01-02T10", "t", false)?.escalations, 1);
      assert.equal(at("2026-01-02T10", "t", true)?.costUsd, 0.5);
      const eleven = at("2026-01-02T11", "m", false);
      assert.equal(eleven?.cacheHits, 1);
      assert.equal(eleven?.speculativeCalls, 1);
      assert.equal(Math.round((eleven?.speculativeUsd ?? 0) * 1e6) / 1e6, 0.003);
      assert.equal(at("2026-01-03T02", "m", false)?.costUsd, 0.07);
      assert.equal(calls.length, 6, "nothing from before the window");

      assert.deepEqual(
        rows.answered.map((r) => ({ ...r })),
        [
          { bucket: "2026-01-02T10", requests: 2 },
          { bucket: "2026-01-02T11", requests: 1 },
          { bucket: "2026-01-03T02", requests: 1 },
        ],
        "distinct requests with answering calls, shadow calls aside",
      );
      assert.deepEqual(
        [...rows.requests].sort((a, b) =>
          `${a.bucket}${a.category}`.localeCompare(`${b.bucket}${b.category}`),
        ),
        [
          { bucket: "2026-01-02T10", category: "L", routeRule: "memo", requests: 1 },
          { bucket: "2026-01-02T10", category: "M", routeRule: "category", requests: 1 },
          { bucket: "2026-01-02T11", category: null, routeRule: null, requests: 1 },
          { bucket: "2026-01-03T02", category: "M", routeRule: "cache", requests: 1 },
        ],
      );
      assert.deepEqual(
        [...rows.verdicts].sort((a, b) => `${a.bucket}${a.verdict}`.localeCompare(`${b.bucket}${b.verdict}`)),
        [
          { bucket: "2026-01-02T10", verdict: "better", samples: 1 },
          { bucket: "2026-01-02T10", verdict: "equal", samples: 1 },
          { bucket: "2026-01-02T10", verdict: "worse", samples: 1 },
          { bucket: "2026-01-03T02", verdict: "equal", samples: 1 },
        ],
        "judged verdicts only",
      );
    });

    it("groups by the UTC day", async () => {
      await record();
      const rows = await store.usage.seriesRows("2026-01-02T10:00:00.000Z", "day");
      const spend = new Map<string, number>();
      for (const r of rows.calls) spend.set(r.bucket, (spend.get(r.bucket) ?? 0) + r.costUsd);
      assert.deepEqual(
        [...spend].map(([bucket, usd]) => [bucket, Math.round(usd * 1e6) / 1e6]),
        [
          ["2026-01-02", 0.573],
          ["2026-01-03", 0.07],
        ],
      );
      assert.deepEqual(
        rows.verdicts.filter((r) => r.bucket === "2026-01-02").reduce((n, r) => n + r.samples, 0),
        3,
      );
    });

    it("knows the time of the oldest call or request kept", async () => {
      assert.equal(await store.usage.earliestAt(), null);
      await store.usage.recordRequests([request({ at: "2026-01-05T00:00:00.000Z" })]);
      assert.equal(await store.usage.earliestAt(), "2026-01-05T00:00:00.000Z");
      await store.usage.recordCalls([call({ at: "2026-01-04T00:00:00.000Z" })]);
      assert.equal(await store.usage.earliestAt(), "2026-01-04T00:00:00.000Z");
    });
  });
