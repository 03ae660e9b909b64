import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BudgetGuard } from "../../../src/budgets/budget-guard.ts";
import { LocalSpendTotals } from "../../../src/budgets/spend-totals.ts";
import { parseConfig } from "../../../src/config/index.ts";
import { OrchestratorError } from "../../../src/core/errors.ts";
import { runWithContext } from "../../../src/core/request-context.ts";
import type { UsageStore } from "../../../src/store/usage-store.ts";
import { baselineCost } from "../../../src/telemetry/baseline-cost.ts";
import { percentiles } from "../../../src/telemetry/stats-report.ts";
import { parseSince } from "../../../src/telemetry/stats-window.ts";
import { upstreamCall } from "../../support/upstream-call.ts";

const thinking = parseConfig({}).models.thinking_ai;
if (typeof thinking !== "object") throw new Error("thinking_ai is a role");

const call = upstreamCall;

describe("baseline cost", () => {
  it("prices answering calls at the baseline role's list prices", () => {
    assert.equal(baselineCost(call({}), thinking), 0.684 + 3.42);
    assert.equal(baselineCost(call({ outcome: "cached" }), thinking), 0.684 + 3.42);
  });
  it("leaves routing overhead and failures out, and media at their own cost", () => {
    assert.equal(baselineCost(call({ purpose: "categorize" }), thinking), 0);
    assert.equal(baselineCost(call({ purpose: "acknowledge" }), thinking), 0);
    assert.equal(baselineCost(call({ outcome: "transient" }), thinking), 0);
    assert.equal(baselineCost(call({ kind: "image", purpose: "media", costUsd: 0.06 }), thinking), 0.06);
  });
});

describe("percentiles", () => {
  it("uses the nearest rank", () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.deepEqual(percentiles(values), { p50: 50, p95: 95, p99: 99 });
    assert.deepEqual(percentiles([7]), { p50: 7, p95: 7, p99: 7 });
    assert.equal(percentiles([]), null);
  });
});

describe("stats window", () => {
  const now = Date.parse("2026-11-25T12:00:00.000Z");
  it("reads durations, ISO times and all, with 24 hours by default", () => {
    assert.equal(parseSince(undefined, now), "2026-11-24T12:00:00.000Z");
    assert.equal(parseSince("15m", now), "2026-11-25T11:45:00.000Z");
    assert.equal(parseSince("7d", now), "2026-11-18T12:00:00.000Z");
    assert.equal(parseSince("2026-11-25", now), "2026-11-25T00:00:00.000Z");
    assert.equal(parseSince("all", now), "1970-01-01T00:00:00.000Z");
  });
  it("refuses anything else, naming the parameter", () => {
    assert.throws(
      () => parseSince("last week", now),
      (error: unknown) => OrchestratorError.isInstance(error) && error.field === "since",
    );
  });
});

describe("budget guard", () => {
  const storeSpending = (spent: number): UsageStore =>
    ({ spentUsd: async () => spent }) as unknown as UsageStore;
  const call = (worstCaseUsd: number) =>
    ({
      kind: "chat",
      purpose: "answer",
      role: "fast_ai",
      model: "m",
      provider: "openrouter",
      priority: "high",
      deadline: Number.POSITIVE_INFINITY,
      worstCaseUsd,
    }) as const;
  const spend = (costUsd: number) =>
    ({ promptTokens: 1, completionTokens: 1, costUsd, costSource: "price" }) as const;

  it("starts from what the ledger says today cost, and starts again at midnight UTC", async () => {
    let iso = "2026-11-25T23:59:00.000Z";
    const clock = { now: () => Date.parse(iso), isoNow: () => iso };
    const guard = new BudgetGuard({
      limits: { perDayUsd: 1, perSessionUsd: 0, perClientUsd: 0 },
      totals: new LocalSpendTotals(storeSpending(0.9), async () => {}),
      clock,
    });
    await guard.check();
    (await guard.before(call(0.05)))?.settle(spend(0.2));
    await assert.rejects(guard.check(), (error: unknown) => {
      return OrchestratorError.isInstance(error) && error.status === 402 && error.code === "budget_exceeded";
    });
    iso = "2026-11-26T00:00:01.000Z";
    await guard.check();
  });

  it("reads a session's spend from the ledger once, then adds what each call settles to", async () => {
    const clock = { now: () => 0, isoNow: () => "2026-11-25T10:00:00.000Z" };
    const guard = new BudgetGuard({
      limits: { perDayUsd: 0, perSessionUsd: 0.5, perClientUsd: 0 },
      totals: new LocalSpendTotals(storeSpending(0.3), async () => {}),
      clock,
    });
    const inSession = <T>(work: () => T) =>
      runWithContext({ requestId: "r", endpoint: "/chat", sessionId: "s1" }, work);
    await inSession(() => guard.check());
    (await inSession(() => guard.before(call(0.1))))?.settle(spend(0.25));
    await assert.rejects(inSession(() => guard.check()));
    // Outside any session only the daily cap applies, and it is off.
    await guard.check();
  });

  it("reserves the worst case before a call, so parallel calls never pass a cap together", async () => {
    const clock = { now: () => 0, isoNow: () => "2026-11-25T10:00:00.000Z" };
    const guard = new BudgetGuard({
      limits: { perDayUsd: 5, perSessionUsd: 0, perClientUsd: 0 },
      totals: new LocalSpendTotals(storeSpending(0), async () => {}),
      clock,
    });
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => guard.before(call(1))));
    const held = outcomes.filter((o) => o.status === "fulfilled");
    assert.equal(held.length, 5);
    // A failed call gives its reservation back; a finished one keeps only what it cost.
    for (const outcome of held) if (outcome.status === "fulfilled") outcome.value?.release();
    const settled = await guard.before(call(4));
    settled?.settle(spend(0.5));
    assert.ok(await guard.before(call(4.5)));
    await assert.rejects(guard.before(call(0.1)));
  });

  it("keeps a per-client daily budget for each client key", async () => {
    const clock = { now: () => 0, isoNow: () => "2026-11-25T10:00:00.000Z" };
    const guard = new BudgetGuard({
      limits: { perDayUsd: 0, perSessionUsd: 0, perClientUsd: 1 },
      totals: new LocalSpendTotals(storeSpending(0), async () => {}),
      clock,
    });
    const as = <T>(clientId: string, work: () => T) =>
      runWithContext({ requestId: "r", endpoint: "/chat", clientId }, work);
    (await as("a", () => guard.before(call(0.5))))?.settle(spend(1));
    await assert.rejects(
      as("a", () => guard.before(call(0.01))),
      /this client's daily budget of \$1/,
    );
    assert.ok(await as("b", () => guard.before(call(0.5))));
  });
});
