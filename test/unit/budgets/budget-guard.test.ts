import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BudgetGuard, type BudgetLimits } from "../../../src/budgets/budget-guard.ts";
import { LocalSpendTotals } from "../../../src/budgets/spend-totals.ts";
import type { Clock } from "../../../src/core/clock.ts";
import { type RequestContext, runWithContext } from "../../../src/core/request-context.ts";
import type { GuardedCall, Spend } from "../../../src/resilience/upstream-guard.ts";
import type { SpendFilter, UsageStore } from "../../../src/store/usage-store.ts";

const clock: Clock = { now: () => 0, isoNow: () => "2026-11-25T10:00:00.000Z" };

const call = (worstCaseUsd: number): GuardedCall => ({
  kind: "chat",
  purpose: "answer",
  role: "fast_ai",
  model: "m",
  provider: "openrouter",
  priority: "high",
  deadline: Number.POSITIVE_INFINITY,
  worstCaseUsd,
});

const spend = (costUsd: number): Spend => ({
  promptTokens: 1,
  completionTokens: 1,
  costUsd,
  costSource: "price",
});

type LedgerRows = { clientId?: string; sessionId?: string; shadow: boolean; costUsd: number }[];

// A ledger as the budgets read it: every settled call is a row with its client, session and shadow mark.
function fakeLedger() {
  const rows: LedgerRows = [];
  const store = {
    spentUsd: async (filter: SpendFilter) =>
      rows
        .filter((r) => filter.clientId === undefined || r.clientId === filter.clientId)
        .filter((r) => filter.sessionId === undefined || r.sessionId === filter.sessionId)
        .reduce((sum, r) => sum + r.costUsd, 0),
    shadowSpentUsd: async () => rows.filter((r) => r.shadow).reduce((sum, r) => sum + r.costUsd, 0),
  } as unknown as UsageStore;
  return { rows, store };
}

const limits = (overrides: Partial<BudgetLimits>): BudgetLimits => ({
  perDayUsd: 0,
  perSessionUsd: 0,
  perClientUsd: 0,
  ...overrides,
});

const as = <T>(context: Partial<RequestContext>, work: () => T) =>
  runWithContext({ requestId: "r", endpoint: "/chat", ...context }, work);

describe("budget guard: shadow calls", () => {
  it("charges a shadow call to the shadow budget and the day, never to the sampled client or session", async () => {
    const { store } = fakeLedger();
    const totals = new LocalSpendTotals(store, async () => {});
    const guard = new BudgetGuard({
      limits: limits({ perClientUsd: 0.2, perSessionUsd: 0.2, perDayUsd: 10, shadowPerDayUsd: 1 }),
      totals,
      clock,
    });
    const client = { clientId: "alice", sessionId: "alice/s1" };
    // The client spends $0.14 of its own; three samples of its requests cost $0.09 each.
    (await as(client, () => guard.before(call(0.05))))?.settle(spend(0.14));
    for (let i = 0; i < 3; i++) {
      const ticket = await as({ ...client, shadow: true }, () => guard.before(call(0.1)));
      ticket?.settle(spend(0.09));
    }
    // The client still has $0.06 of its own: a $0.05 call fits.
    assert.ok(await as(client, () => guard.before(call(0.05))));
    const day = "2026-11-25";
    assert.ok(Math.abs((await totals.committed({ kind: "shadow", day, capUsd: 1 })) - 0.27) < 1e-9);
    assert.ok(Math.abs((await totals.committed({ kind: "day", day, capUsd: 10 })) - 0.46) < 1e-9);
  });

  it("reserves the worst case of shadow calls, so 60 at once cannot pass the shadow cap together", async () => {
    const { store } = fakeLedger();
    const guard = new BudgetGuard({
      limits: limits({ shadowPerDayUsd: 0.05 }),
      totals: new LocalSpendTotals(store, async () => {}),
      clock,
    });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 60 }, () => as({ shadow: true }, () => guard.before(call(0.01)))),
    );
    const held = outcomes.filter((o) => o.status === "fulfilled");
    assert.equal(held.length, 5);
    const refused = outcomes.find((o) => o.status === "rejected");
    assert.match(String(refused?.reason), /shadow sampling \(monitoring\.shadow\.maxDailyUsd\)/);
    // Calls that are not shadow calls do not draw on it.
    assert.equal(await guard.before(call(1)), undefined);
  });
});

describe("budget guard: a client's spend is never forgotten", () => {
  // A client at its cap, then requests in fresh sessions until its line has been pushed out of memory.
  async function atCapThenFreshSessions(totals: LocalSpendTotals, rows: LedgerRows, sessions: number) {
    const guard = new BudgetGuard({
      limits: limits({ perClientUsd: 0.05, perSessionUsd: 1 }),
      totals,
      clock,
    });
    const ticket = await as({ clientId: "alice", sessionId: "alice/s0" }, () => guard.before(call(0.01)));
    ticket?.settle(spend(0.06));
    rows.push({ clientId: "alice", sessionId: "alice/s0", shadow: false, costUsd: 0.06 });
    let passed = 0;
    for (let i = 1; i <= sessions; i++) {
      const ticket = await as({ clientId: "alice", sessionId: `alice/s${i}` }, () =>
        guard.before(call(0.01)).catch(() => undefined),
      );
      if (ticket) passed++;
    }
    return passed;
  }

  it("reads an evicted client line back from the ledger, not as $0", async () => {
    const { rows, store } = fakeLedger();
    // 10,000 lines in memory by default: the 10,002nd session pushes the client's line out.
    assert.equal(await atCapThenFreshSessions(new LocalSpendTotals(store, async () => {}), rows, 10_005), 0);
  });

  it("shows the same with a table of two lines", async () => {
    const { rows, store } = fakeLedger();
    const totals = new LocalSpendTotals(store, async () => {}, { maxTracked: 2 });
    assert.equal(await atCapThenFreshSessions(totals, rows, 5), 0);
  });

  it("starts a client at what the ledger says it spent today, after a restart", async () => {
    const { rows, store } = fakeLedger();
    rows.push({ clientId: "alice", shadow: false, costUsd: 0.06 });
    const restarted = new BudgetGuard({
      limits: limits({ perClientUsd: 0.05 }),
      totals: new LocalSpendTotals(store, async () => {}),
      clock,
    });
    await assert.rejects(
      as({ clientId: "alice" }, () => restarted.check()),
      /daily budget of \$0\.05/,
    );
    assert.ok(await as({ clientId: "bob" }, () => restarted.before(call(0.01))));
  });
});
