import type { UsageStore } from "../store/usage-store.ts";

// One budget a call draws on: today's (UTC), a session's, an API client's today, or the shadow sampling's
// today (the deployment's own spending on the quality figure, monitoring.shadow.maxDailyUsd).
export type BudgetLine =
  | { readonly kind: "day"; readonly day: string; readonly capUsd: number }
  | { readonly kind: "session"; readonly sessionId: string; readonly capUsd: number }
  | { readonly kind: "client"; readonly clientId: string; readonly day: string; readonly capUsd: number }
  | { readonly kind: "shadow"; readonly day: string; readonly capUsd: number };

export function budgetKey(line: BudgetLine): string {
  switch (line.kind) {
    case "day":
      return `day:${line.day}`;
    case "session":
      return `session:${line.sessionId}`;
    case "client":
      return `client:${line.clientId}:${line.day}`;
    case "shadow":
      return `shadow:${line.day}`;
  }
}

// What a budget has spent before this process knew it, from the ledger: it holds every call with its day,
// session, client and whether it was a shadow call, so a total forgotten (or never kept, after a restart)
// is read back as it stands and never starts again from $0.
export function spentFromLedger(store: UsageStore, line: BudgetLine): Promise<number> {
  const since = "day" in line ? `${line.day}T00:00:00.000Z` : undefined;
  switch (line.kind) {
    case "day":
      return store.spentUsd({ since });
    case "session":
      return store.spentUsd({ sessionId: line.sessionId });
    case "client":
      return store.spentUsd({ since, clientId: line.clientId });
    case "shadow":
      return store.shadowSpentUsd(`${line.day}T00:00:00.000Z`);
  }
}

// A reservation held on some budgets: settled once, to what the call cost (0 when it failed).
export interface Reservation {
  settle(spent: number): void;
}

export type ReserveOutcome =
  | { readonly ok: true; readonly reservation: Reservation }
  | { readonly ok: false; readonly refused: BudgetLine };

// Spend and reservations per budget, checked and taken together: a call reserves its worst-case cost
// against every budget that applies before it starts, and settles to what it actually cost when it ends
// (nothing, on failure). Kept in this process, or in Redis when several processes draw on the same budgets.
export interface SpendTotals {
  // Spent plus reserved.
  committed(line: BudgetLine): Promise<number>;
  // Reserves `amount` on every line, or on none: refused names the first line it would not fit.
  reserve(lines: readonly BudgetLine[], amount: number): Promise<ReserveOutcome>;
}

// Refused when what is spent and reserved already reaches the cap, or would pass it with this call.
export function fits(committed: number, amount: number, capUsd: number): boolean {
  return committed < capUsd && committed + amount <= capUsd + 1e-12;
}

// Budgets kept in memory past which the oldest unreserved one is forgotten (and read back from the ledger
// when next needed).
const defaultMaxTrackedBudgets = 10_000;

export class LocalSpendTotals implements SpendTotals {
  readonly #store: UsageStore;
  readonly #flush: () => Promise<void>;
  readonly #maxTracked: number;
  readonly #totals = new Map<string, { spent: number; reserved: number }>();

  constructor(store: UsageStore, flush: () => Promise<void>, options: { maxTracked?: number } = {}) {
    this.#store = store;
    this.#flush = flush;
    this.#maxTracked = options.maxTracked ?? defaultMaxTrackedBudgets;
  }

  async committed(line: BudgetLine): Promise<number> {
    const total = await this.#load(line);
    return total.spent + total.reserved;
  }

  async reserve(lines: readonly BudgetLine[], amount: number): Promise<ReserveOutcome> {
    const totals: { spent: number; reserved: number }[] = [];
    for (const line of lines) totals.push(await this.#load(line));
    // From here on nothing awaits: the check and the reservation are one step.
    for (const [i, line] of lines.entries()) {
      const total = totals[i];
      if (total && !fits(total.spent + total.reserved, amount, line.capUsd))
        return { ok: false, refused: line };
    }
    for (const total of totals) total.reserved += amount;
    let open = true;
    return {
      ok: true,
      reservation: {
        settle: (spent) => {
          if (!open) return;
          open = false;
          for (const total of totals) {
            // Under a hair is nothing: the line may then be forgotten again.
            total.reserved = total.reserved - amount < 1e-12 ? 0 : total.reserved - amount;
            total.spent += spent;
          }
        },
      },
    };
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
    if (this.#totals.size > this.#maxTracked) {
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
