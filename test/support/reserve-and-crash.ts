// A process that reserves on a shared budget in Redis and then dies without settling, as a crash would:
// its reservation must lapse within its lease. Prints "reserved" once the reservation is held.
import { Redis } from "ioredis";
import pino from "pino";
import type { BudgetLine } from "../../src/budgets/spend-totals.ts";
import { SharedSpendTotals } from "../../src/cluster/shared-spend-totals.ts";
import type { UsageStore } from "../../src/store/usage-store.ts";

const [redisUrl, keyPrefix, amount, cap, leaseMs] = process.argv.slice(2);
const redis = new Redis(redisUrl ?? "");
const totals = new SharedSpendTotals({
  redis,
  keyPrefix: keyPrefix ?? "",
  store: { spentUsd: async () => 0 } as unknown as UsageStore,
  flush: async () => {},
  logger: pino({ level: "silent" }),
  reservationLeaseMs: Number(leaseMs),
});
const line: BudgetLine = { kind: "client", clientId: "alice-id", day: "2026-11-29", capUsd: Number(cap) };
const outcome = await totals.reserve([line], Number(amount));
process.stdout.write(outcome.ok ? "reserved" : "refused", () => process.kill(process.pid, "SIGKILL"));
