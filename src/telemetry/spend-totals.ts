import type { LedgerEntry, UsageStore } from "../store/usage-store.ts";

// What has been spent today (UTC) and per session: the numbers budgets are checked against. Kept in this
// process, or in Redis when several processes spend from the same budgets.
export interface SpendTotals {
  day(day: string): Promise<number>;
  session(sessionId: string): Promise<number>;
  add(entry: LedgerEntry, day: string): void;
}

// Sessions whose spend is kept in memory; others are read back from the ledger when they return.
const maxTrackedSessions = 10_000;

export class LocalSpendTotals implements SpendTotals {
  readonly #store: UsageStore;
  readonly #flush: () => Promise<void>;
  #day = "";
  #dayTotal: number | undefined;
  readonly #sessions = new Map<string, number>();

  constructor(store: UsageStore, flush: () => Promise<void>) {
    this.#store = store;
    this.#flush = flush;
  }

  async day(day: string): Promise<number> {
    if (day !== this.#day || this.#dayTotal === undefined) {
      await this.#flush();
      this.#dayTotal = await this.#store.spentUsd({ since: `${day}T00:00:00.000Z` });
      this.#day = day;
    }
    return this.#dayTotal;
  }

  async session(sessionId: string): Promise<number> {
    const known = this.#sessions.get(sessionId);
    if (known !== undefined) return known;
    await this.#flush();
    const spent = await this.#store.spentUsd({ sessionId });
    if (this.#sessions.size >= maxTrackedSessions) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
    this.#sessions.set(sessionId, spent);
    return spent;
  }

  add(entry: LedgerEntry, day: string): void {
    if (day === this.#day && this.#dayTotal !== undefined) this.#dayTotal += entry.costUsd;
    const known = entry.sessionId === null ? undefined : this.#sessions.get(entry.sessionId);
    if (entry.sessionId !== null && known !== undefined)
      this.#sessions.set(entry.sessionId, known + entry.costUsd);
  }
}
