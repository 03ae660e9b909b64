import type { UsageStore } from "../store/usage-store.ts";

// One budget a call draws on: today's (UTC), a session's, or an API client's today.
export type BudgetLine =
  | { readonly kind: "day"; readonly day: string; readonly capUsd: number }
  | { readonly kind: "session"; readonly sessionId: string; readonly capUsd: number }
  | { readonly kind: "client"; readonly clientId: string; readonly day: string; readonly capUsd: number };

export function budgetKey(line: BudgetLine): string {
  switch (line.kind) {
    case "day":
      return `day:${line.day}`;
    case "session":
      return `session:${line.sessionId}`;
    case "client":
      return `client:${line.clientId}:${line.day}`;
  }
}

// What a budget has spent before this process knew it: the ledger has days and sessions; a client's
// spend is counted from when its total is first kept (in Redis, for the day).
export function spentFromLedger(store: UsageStore, line: BudgetLine): Promise<number> {
  if (line.kind === "day") return store.spentUsd({ since: `${line.day}T00:00:00.000Z` });
  if (line.kind === "session") return store.spentUsd({ sessionId: line.sessionId });
  return Promise.resolve(0);
}

// Spend and reservations per budget, checked and taken together: a call reserves its worst-case cost
// against every budget that applies before it starts, and settles to what it actually cost when it ends
// (nothing, on failure). Kept in this process, or in Redis when several processes draw on the same budgets.
export interface SpendTotals {
  // Spent plus reserved.
  committed(line: BudgetLine): Promise<number>;
  // Reserves `amount` on every line, or on none: returns the first line it would not fit.
  reserve(lines: readonly BudgetLine[], amount: number): Promise<BudgetLine | undefined>;
  settle(lines: readonly BudgetLine[], reserved: number, spent: number): void;
}

// Refused when what is spent and reserved already reaches the cap, or would pass it with this call.
export function fits(committed: number, amount: number, capUsd: number): boolean {
  return committed < capUsd && committed + amount <= capUsd + 1e-12;
}

// Budgets kept in memory; the oldest unreserved one is forgotten past this many (read back when needed).
const maxTrackedBudgets = 10_000;

export class LocalSpendTotals implements SpendTotals {
  readonly #store: UsageStore;
  readonly #flush: () => Promise<void>;
  readonly #totals = new Map<string, { spent: number; reserved: number }>();

  constructor(store: UsageStore, flush: () => Promise<void>) {
    this.#store = store;
    this.#flush = flush;
  }

  async committed(line: BudgetLine): Promise<number> {
    const total = await this.#load(line);
    return total.spent + total.reserved;
  }

  async reserve(lines: readonly BudgetLine[], amount: number): Promise<BudgetLine | undefined> {
    const totals = [];
    for (const line of lines) totals.push(await this.#load(line));
    // From here on nothing awaits: the check and the reservation are one step.
    for (const [i, line] of lines.entries()) {
      const total = totals[i];
      if (total && !fits(total.spent + total.reserved, amount, line.capUsd)) return line;
    }
    for (const total of totals) total.reserved += amount;
    return undefined;
  }

  settle(lines: readonly BudgetLine[], reserved: number, spent: number): void {
    for (const line of lines) {
      const total = this.#totals.get(budgetKey(line));
      if (!total) continue;
      total.reserved = Math.max(0, total.reserved - reserved);
      total.spent += spent;
    }
  }

  async #load(line: BudgetLine): Promise<{ spent: number; reserved: number }> {
    const key = budgetKey(line);
    const known = this.#totals.get(key);
    if (known) return known;
    await this.#flush();
    const spent = await spentFromLedger(this.#store, line);
    // Another call may have loaded it meanwhile; the first one kept wins.
    const total = this.#totals.get(key) ?? { spent, reserved: 0 };
    this.#totals.set(key, total);
    if (this.#totals.size > maxTrackedBudgets) {
      for (const [oldKey, old] of this.#totals) {
        if (old.reserved === 0 && oldKey !== key) {
          this.#totals.delete(oldKey);
          break;
        }
      }
    }
    return total;
  }
}
