import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import {
  type BudgetLine,
  budgetKey,
  type ReserveOutcome,
  type SpendTotals,
  spentFromLedger,
} from "../budgets/spend-totals.ts";
import type { UsageStore } from "../store/usage-store.ts";

// Each budget has three keys: what was spent, the sum of the reservations held on it, and the reservations
// themselves, a sorted set of "<owner>:<n>:<amount>" scored by when each one lapses (Redis time, ms). A
// reservation lives for a short lease that the process holding it renews while its call is in flight; one
// whose process crashed is not renewed and lapses within the lease, and whoever next reads the budget
// takes its amount off the sum. (Keyed by the owner process's lease, it would lapse no sooner, and a
// process alive but cut off from Redis would lose reservations it still holds all the same.)
//
// Takes the reservations that have lapsed off the sum of budget i (KEYS[n + i], leases KEYS[2n + i]); an
// empty set of leases resets the sum, so rounding left over from many additions never builds up.
const purge = `
local function purge(sum, leases, now)
  local lapsed = redis.call('ZRANGEBYSCORE', leases, '-inf', now)
  if #lapsed > 0 then
    for _, member in ipairs(lapsed) do
      redis.call('INCRBYFLOAT', sum, -tonumber(string.match(member, ':([^:]+)$')))
    end
    redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
  end
  if redis.call('ZCARD', leases) == 0 then redis.call('DEL', sum) end
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
`;

// Checks every budget and reserves on all of them in one step, so replicas and workers reserving at the
// same moment cannot pass a cap together. KEYS: n spent totals, their n reservation sums, their n leases.
// ARGV: the amount, the n caps, the keys' time to live (s), the reservation's member, its lease (ms).
const reserveScript = `${purge}
local n = #KEYS / 3
local amount = tonumber(ARGV[1])
for i = 1, n do
  purge(KEYS[n + i], KEYS[2 * n + i], now)
  local committed = tonumber(redis.call('GET', KEYS[i]) or '0') + tonumber(redis.call('GET', KEYS[n + i]) or '0')
  local cap = tonumber(ARGV[1 + i])
  if committed >= cap or committed + amount > cap + 1e-12 then return i end
end
for i = 1, n do
  redis.call('INCRBYFLOAT', KEYS[n + i], ARGV[1])
  redis.call('EXPIRE', KEYS[n + i], ARGV[n + 2])
  redis.call('ZADD', KEYS[2 * n + i], now + tonumber(ARGV[n + 4]), ARGV[n + 3])
  redis.call('EXPIRE', KEYS[2 * n + i], ARGV[n + 2])
end
return 0
`;

// Gives the reservation back (unless it lapsed and was taken off already) and adds what was spent (to a
// total that exists: a missing one is read back from the ledger, which holds the call, when next needed).
// KEYS as for reserving; ARGV: the amount reserved, the amount spent, the reservation's member.
const settleScript = `
local n = #KEYS / 3
for i = 1, n do
  if tonumber(ARGV[2]) ~= 0 and redis.call('EXISTS', KEYS[i]) == 1 then redis.call('INCRBYFLOAT', KEYS[i], ARGV[2]) end
  if redis.call('ZREM', KEYS[2 * n + i], ARGV[3]) == 1 then
    redis.call('INCRBYFLOAT', KEYS[n + i], -tonumber(ARGV[1]))
    if redis.call('ZCARD', KEYS[2 * n + i]) == 0 then redis.call('DEL', KEYS[n + i]) end
  end
end
return 0
`;

// The sum of the reservations still held on one budget. KEYS: its sum, its leases.
const reservedScript = `${purge}
purge(KEYS[1], KEYS[2], now)
return redis.call('GET', KEYS[1]) or '0'
`;

// Moves the lapse of live reservations on. KEYS: leases; ARGV: the lease (ms), then each key's member.
const renewScript = `
local time = redis.call('TIME')
local lapse = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) + tonumber(ARGV[1])
for i = 1, #KEYS do redis.call('ZADD', KEYS[i], 'XX', lapse, ARGV[1 + i]) end
return 0
`;

const dayTtlSeconds = 2 * 86_400;
const sessionTtlSeconds = 30 * 86_400;
// How long a reservation outlives the last sign of life of the process holding it.
const defaultLeaseMs = 60_000;

// Spend of every process together, in Redis: the API's sessions and the workers' tasks draw on one budget.
export class SharedSpendTotals implements SpendTotals {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #store: UsageStore;
  readonly #flush: () => Promise<void>;
  readonly #logger: Logger;
  readonly #leaseMs: number;
  readonly #owner = randomUUID();
  #reservations = 0;
  // The reservations this process holds: member → the keys of their leases.
  readonly #held = new Map<string, string[]>();
  #renewTimer: NodeJS.Timeout | undefined;

  constructor(options: {
    redis: Redis;
    keyPrefix: string;
    store: UsageStore;
    flush: () => Promise<void>;
    logger: Logger;
    // A reservation lapses this long after the process holding it last renewed it (a third of it apart).
    reservationLeaseMs?: number;
  }) {
    this.#redis = options.redis;
    this.#prefix = `${options.keyPrefix}:spend:`;
    this.#store = options.store;
    this.#flush = options.flush;
    this.#logger = options.logger;
    this.#leaseMs = options.reservationLeaseMs ?? defaultLeaseMs;
  }

  async committed(line: BudgetLine): Promise<number> {
    const spent = await this.#seeded(line);
    const reserved = await this.#redis.eval(
      reservedScript,
      2,
      this.#reservedKey(line),
      this.#leasesKey(line),
    );
    return spent + Number(reserved);
  }

  async reserve(lines: readonly BudgetLine[], amount: number): Promise<ReserveOutcome> {
    for (const line of lines) await this.#seeded(line);
    const keys = this.#keys(lines);
    const member = `${this.#owner}:${++this.#reservations}:${amount}`;
    const refused = Number(
      await this.#redis.eval(
        reserveScript,
        keys.length,
        ...keys,
        amount,
        ...lines.map((l) => l.capUsd),
        dayTtlSeconds,
        member,
        this.#leaseMs,
      ),
    );
    const refusedLine = refused === 0 ? undefined : lines[refused - 1];
    if (refusedLine) return { ok: false, refused: refusedLine };
    this.#hold(
      member,
      lines.map((l) => this.#leasesKey(l)),
    );
    let open = true;
    return {
      ok: true,
      reservation: {
        settle: (spent) => {
          if (!open) return;
          open = false;
          this.#letGo(member);
          this.#redis
            .eval(settleScript, keys.length, ...keys, amount, spent, member)
            .catch((error: unknown) =>
              this.#logger.warn({ err: error }, "could not settle a budget reservation"),
            );
        },
      },
    };
  }

  #keys(lines: readonly BudgetLine[]): string[] {
    return [
      ...lines.map((l) => this.#spentKey(l)),
      ...lines.map((l) => this.#reservedKey(l)),
      ...lines.map((l) => this.#leasesKey(l)),
    ];
  }

  // One timer renews every reservation this process holds, and runs only while it holds some.
  #hold(member: string, leaseKeys: string[]): void {
    this.#held.set(member, leaseKeys);
    if (this.#renewTimer) return;
    this.#renewTimer = setInterval(() => this.#renew(), Math.max(10, Math.floor(this.#leaseMs / 3)));
    this.#renewTimer.unref();
  }

  #letGo(member: string): void {
    this.#held.delete(member);
    if (this.#held.size > 0 || !this.#renewTimer) return;
    clearInterval(this.#renewTimer);
    this.#renewTimer = undefined;
  }

  #renew(): void {
    const keys: string[] = [];
    const members: string[] = [];
    for (const [member, leaseKeys] of this.#held) {
      for (const key of leaseKeys) {
        keys.push(key);
        members.push(member);
      }
    }
    if (keys.length === 0) return;
    this.#redis
      .eval(renewScript, keys.length, ...keys, this.#leaseMs, ...members)
      .catch((error: unknown) => this.#logger.warn({ err: error }, "could not renew budget reservations"));
  }

  #spentKey(line: BudgetLine): string {
    return `${this.#prefix}${budgetKey(line)}`;
  }

  #reservedKey(line: BudgetLine): string {
    return `${this.#prefix}reserved:${budgetKey(line)}`;
  }

  #leasesKey(line: BudgetLine): string {
    return `${this.#prefix}leases:${budgetKey(line)}`;
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
