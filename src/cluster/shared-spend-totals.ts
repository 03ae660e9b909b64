import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { LedgerEntry, UsageStore } from "../store/usage-store.ts";
import type { SpendTotals } from "../telemetry/spend-totals.ts";

// Adds to a total only once it exists: a total is first read back from the ledger, which already holds
// the calls made before it.
const addIfKnown = `
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBYFLOAT', KEYS[1], ARGV[1]) end
return nil
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

  day(day: string): Promise<number> {
    return this.#read(`day:${day}`, dayTtlSeconds, () =>
      this.#store.spentUsd({ since: `${day}T00:00:00.000Z` }),
    );
  }

  session(sessionId: string): Promise<number> {
    return this.#read(`session:${sessionId}`, sessionTtlSeconds, () => this.#store.spentUsd({ sessionId }));
  }

  add(entry: LedgerEntry, day: string): void {
    const keys = [`day:${day}`, ...(entry.sessionId === null ? [] : [`session:${entry.sessionId}`])];
    for (const key of keys) {
      this.#redis
        .eval(addIfKnown, 1, this.#prefix + key, entry.costUsd)
        .catch((error: unknown) =>
          this.#logger.warn({ err: error }, "could not add to a shared spend total"),
        );
    }
  }

  async #read(key: string, ttlSeconds: number, fromLedger: () => Promise<number>): Promise<number> {
    const stored = await this.#redis.get(this.#prefix + key);
    if (stored !== null) return Number(stored);
    await this.#flush();
    const spent = await fromLedger();
    // Another process may have seeded it meanwhile; its value wins.
    await this.#redis.set(this.#prefix + key, String(spent), "EX", ttlSeconds, "NX");
    return Number((await this.#redis.get(this.#prefix + key)) ?? spent);
  }
}
