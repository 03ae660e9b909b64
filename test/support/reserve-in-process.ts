// A separate process drawing on a shared budget: reserves `count` times at once through the real Redis
// reservation script and prints how many were granted. Run by the budget race test, two at a time.
import { Redis } from "ioredis";
import pino from "pino";
import type { BudgetLine } from "../../src/budgets/spend-totals.ts";
import { SharedSpendTotals } from "../../src/cluster/shared-spend-totals.ts";
import type { UsageStore } from "../../src/store/usage-store.ts";

const [redisUrl, keyPrefix, count, amount, cap] = process.argv.slice(2);
const redis = new Redis(redisUrl ?? "");
const totals = new SharedSpendTotals({
  redis,
  keyPrefix: keyPrefix ?? "",
  store: { spentUsd: async () => 0 } as unknown as UsageStore,
  flush: async () => {},
  logger: pino({ level: "silent" }),
});
const line: BudgetLine = { kind: "day", day: "2026-11-29", capUsd: Number(cap) };
const outcomes = await Promise.all(
  Array.from({ length: Number(count) }, () => totals.reserve([line], Number(amount))),
);
process.stdout.write(JSON.stringify({ granted: outcomes.filter((outcome) => outcome.ok).length }));
await redis.quit();
