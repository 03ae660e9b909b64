import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../../src/config/index.ts";
import { runWithContext } from "../../../src/core/request-context.ts";
import type { LedgerEntry, RequestEntry, UsageStore } from "../../../src/store/usage-store.ts";
import { Metrics } from "../../../src/telemetry/metrics.ts";
import { UsageLedger } from "../../../src/telemetry/usage-ledger.ts";
import { upstreamCall } from "../../support/upstream-call.ts";

const thinking = parseConfig({}).models.thinking_ai;
if (typeof thinking !== "object") throw new Error("thinking_ai is a role");

const call = upstreamCall();

const request = (requestId: string): RequestEntry => ({
  at: "2026-01-01T00:00:00.000Z",
  requestId,
  method: "POST",
  endpoint: "/chat",
  status: 200,
  category: null,
  latencyMs: 20,
  cacheHit: false,
  sessionId: null,
});

// Only the writes the ledger makes; every read is a test error.
function recordingStore() {
  const batches: { calls: LedgerEntry[]; requests: RequestEntry[] }[] = [];
  const refuse = () => {
    throw new Error("the ledger only writes");
  };
  const store = new Proxy({} as UsageStore, {
    get: (_, name) =>
      name === "recordUsage"
        ? async (calls: readonly LedgerEntry[], requests: readonly RequestEntry[]) =>
            void batches.push({ calls: [...calls], requests: [...requests] })
        : refuse,
  });
  return { store, batches };
}

// A batch timer fired by hand, remembering the interval it was asked for.
function manualTimer() {
  const asked: number[] = [];
  let pending: (() => void) | undefined;
  return {
    asked,
    schedule: (run: () => void, ms: number) => {
      asked.push(ms);
      pending = run;
      return () => {
        pending = undefined;
      };
    },
    fire: () => pending?.(),
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

// A ledger writing to `store`, its batch timer fired by hand.
const ledgerOver = (
  store: UsageStore,
  timer: ReturnType<typeof manualTimer>,
  flushIntervalMs?: number,
): UsageLedger =>
  new UsageLedger({
    store,
    baseline: thinking,
    clock: { now: () => 0, isoNow: () => "2026-01-01T00:00:00.000Z" },
    listeners: [],
    schedule: timer.schedule,
    ...(flushIntervalMs === undefined ? {} : { flushIntervalMs }),
  });

describe("usage ledger", () => {
  it("writes the calls and the requests of one interval as one batch, after the configured interval", async () => {
    const { store, batches } = recordingStore();
    const timer = manualTimer();
    const ledger = ledgerOver(store, timer, 750);
    runWithContext({ requestId: "a", endpoint: "/chat" }, async () => ledger.record(call));
    ledger.recordRequest(request("a"));
    runWithContext({ requestId: "b", endpoint: "/chat" }, async () => ledger.record(call));
    ledger.recordRequest(request("b"));
    await settle();
    assert.equal(batches.length, 0, "nothing is written before the interval");
    assert.deepEqual(timer.asked, [750], "monitoring.writeBatchMs sets the interval");
    timer.fire();
    await ledger.flush();
    assert.equal(batches.length, 1, "one write (one transaction) for both kinds of row");
    assert.deepEqual(
      batches[0]?.calls.map((entry) => entry.requestId),
      ["a", "b"],
    );
    assert.deepEqual(
      batches[0]?.requests.map((entry) => entry.requestId),
      ["a", "b"],
    );
  });

  it("lets a task take its own calls' rows out of the shared queue, and give them back", async () => {
    const { store, batches } = recordingStore();
    const timer = manualTimer();
    const ledger = ledgerOver(store, timer);
    const task = {};
    runWithContext({ requestId: "t", endpoint: "/workflow", ledgerOwner: task }, async () =>
      ledger.record(call),
    );
    runWithContext({ requestId: "other", endpoint: "/chat" }, async () => ledger.record(call));
    ledger.recordRequest(request("other"));
    const taken = await ledger.takeCallsOf(task);
    assert.deepEqual(
      taken.map((entry) => entry.requestId),
      ["t"],
    );
    await ledger.flush();
    assert.deepEqual(
      batches.map((batch) => [batch.calls.map((e) => e.requestId), batch.requests.map((e) => e.requestId)]),
      [[["other"], ["other"]]],
    );
    ledger.giveBack(taken);
    await ledger.flush();
    assert.deepEqual(
      batches[1]?.calls.map((entry) => entry.requestId),
      ["t"],
    );
  });

  it("records a cost that is not finite as 0, so neither the metrics nor the store ever see it", async () => {
    const { store, batches } = recordingStore();
    const timer = manualTimer();
    const metrics = new Metrics({
      breakers: { snapshots: () => [] } as never,
      scheduler: {} as never,
      runningWorkflows: () => 0,
      modelLabel: (model) => model,
    });
    const ledger = new UsageLedger({
      store,
      baseline: thinking,
      clock: { now: () => 0, isoNow: () => "2026-01-01T00:00:00.000Z" },
      listeners: [metrics],
      schedule: timer.schedule,
    });
    ledger.record(upstreamCall({ costUsd: Number.POSITIVE_INFINITY, promptTokens: 1e308 }));
    ledger.record(upstreamCall({ costUsd: Number.NaN }));
    await ledger.flush();
    const rows = batches.flatMap((batch) => batch.calls);
    assert.deepEqual(
      rows.map((row) => [row.costUsd, Number.isFinite(row.baselineUsd)]),
      [
        [0, true],
        [0, true],
      ],
    );
    const cost = await metrics.registry.getSingleMetric("orchestrator_cost_usd_total")?.get();
    assert.deepEqual(
      cost?.values.map((v) => v.value),
      [0],
    );
  });

  it("counts prompt-cache tokens and splits each call's saving into the saved and extra counters", async () => {
    const { store, batches } = recordingStore();
    const timer = manualTimer();
    const metrics = new Metrics({
      breakers: { snapshots: () => [] } as never,
      scheduler: {} as never,
      runningWorkflows: () => 0,
      modelLabel: (model) => model,
    });
    const ledger = new UsageLedger({
      store,
      baseline: thinking,
      clock: { now: () => 0, isoNow: () => "2026-01-01T00:00:00.000Z" },
      listeners: [metrics],
      schedule: timer.schedule,
    });
    ledger.record(upstreamCall({ cacheReadTokens: 800, cacheWriteTokens: 100, cacheSavedUsd: 0.002 }));
    ledger.record(upstreamCall({ cacheWriteTokens: 400, cacheSavedUsd: -0.0005 }));
    ledger.record(upstreamCall({ cacheSavedUsd: Number.NaN }));
    await ledger.flush();
    assert.deepEqual(
      batches.flatMap((batch) => batch.calls).map((row) => row.cacheSavedUsd),
      [0.002, -0.0005, 0],
      "a saving may be negative, never NaN",
    );
    const tokens = await metrics.registry.getSingleMetric("orchestrator_upstream_tokens_total")?.get();
    const byDirection = (direction: string) =>
      tokens?.values.filter((v) => v.labels.direction === direction).reduce((sum, v) => sum + v.value, 0);
    assert.equal(byDirection("cache_read"), 800);
    assert.equal(byDirection("cache_write"), 500);
    const saved = await metrics.registry.getSingleMetric("orchestrator_prompt_cache_saved_usd_total")?.get();
    const extra = await metrics.registry.getSingleMetric("orchestrator_prompt_cache_extra_usd_total")?.get();
    assert.deepEqual(
      saved?.values.map((v) => v.value),
      [0.002],
    );
    assert.deepEqual(
      extra?.values.map((v) => v.value),
      [0.0005],
    );
  });
});
