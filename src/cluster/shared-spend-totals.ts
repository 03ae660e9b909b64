import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { UsageStore } from "../store/usage-store.ts";
import { type BudgetLine, budgetKey, type SpendTotals, spentFromLedger } from "../telemetry/spend-totals.ts";

// Checks every budget and reserves on all of them in one step, so replicas and workers reserving at the
// same moment cannot pass a cap together. KEYS: n spent totals, then their n reservations.
// ARGV: the amount, the n caps, the reservations' time to live.
const reserveScript = `
local n = #KEYS / 2
local amount = tonumber(ARGV[1])
for i = 1, n do
  local committed = tonumber(redis.call('GET', KEYS[i]) or '0') + tonumber(redis.call('GET', KEYS[n + i]) or '0')
  local cap = tonumber(ARGV[1 + i])
  if committed >= cap or committed + amount > cap + 1e-12 then return i end
end
for i = 1, n do
  redis.call('INCRBYFLOAT', KEYS[n + i], ARGV[1])
  redis.call('EXPIRE', KEYS[n + i], ARGV[n + 2])
end
return 0
`;

// Gives the reservation back and adds what was spent (to a total that exists: a missing one is read back
// from the ledger, which holds the call, when it is next needed).
const settleScript = `
local n = #KEYS / 2
for i = 1, n do
  if tonumber(ARGV[2]) ~= 0 and redis.call('EXISTS', KEYS[i]) == 1 then redis.call('INCRBYFLOAT', KEYS[i], ARGV[2]) end
  if redis.call('EXISTS', KEYS[n + i]) == 1 then redis.call('INCRBYFLOAT', KEYS[n + i], -tonumber(ARGV[1])) end
end
return 0
`;

const dayTtlSeconds = 2 * 86_400;
const sessionTtlSeconds = 30 * 86_400;

// Spend of every process together, in Redis: the API's sessions and the workers' tasks draw on one budget.
export class SharedSpendTotals implements SpendTotals {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #store: UsageStore;
  readonly #flush: () => Promise<void>;
  readonly #logger: Logger;

  constructor(options: {
    redis: Redis;
    keyPrefix: string;
    store: UsageStore;
    flush: () => Promise<void>;
    logger: Logger;
  }) {
    this.#redis = options.redis;
    this.#prefix = `${options.keyPrefix}:spend:`;
    this.#store = options.store;
    this.#flush = options.flush;
    this.#logger = options.logger;
  }

  async committed(line: BudgetLine): Promise<number> {
    const spent = await this.#seeded(line);
    const reserved = Number((await this.#redis.get(this.#reservedKey(line))) ?? 0);
    return spent + reserved;
  }

  async reserve(lines: readonly BudgetLine[], amount: number): Promise<BudgetLine | undefined> {
    for (const line of lines) await this.#seeded(line);
    const keys = [...lines.map((l) => this.#spentKey(l)), ...lines.map((l) => this.#reservedKey(l))];
    const refused = Number(
      await this.#redis.eval(
        reserveScript,
        keys.length,
        ...keys,
        amount,
        ...lines.map((l) => l.capUsd),
        dayTtlSeconds,
      ),
    );
    return refused === 0 ? undefined : lines[refused - 1];
  }

  settle(lines: readonly BudgetLine[], reserved: number, spent: number): void {
    const keys = [...lines.map((l) => this.#spentKey(l)), ...lines.map((l) => this.#reservedKey(l))];
    this.#redis
      .eval(settleScript, keys.length, ...keys, reserved, spent)
      .catch((error: unknown) => this.#logger.warn({ err: error }, "could not settle a budget reservation"));
  }

  #spentKey(line: BudgetLine): string {
    return `${this.#prefix}${budgetKey(line)}`;
  }

  #reservedKey(line: BudgetLine): string {
    return `${this.#prefix}reserved:${budgetKey(line)}`;
  }

  async #seeded(line: BudgetLine): Promise<number> {
    const key = this.#spentKey(line);
    const stored = await this.#redis.get(key);
    if (stored !== null) return Number(stored);
    await this.#flush();
    const spent = await spentFromLedger(this.#store, line);
    const ttl = line.kind === "session" ? sessionTtlSeconds : dayTtlSeconds;
    // Another process may have seeded it meanwhile; its value wins.
    await this.#redis.set(key, String(spent), "EX", ttl, "NX");
    return Number((await this.#redis.get(key)) ?? spent);
  }
}
