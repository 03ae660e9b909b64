import type { Clock } from "../core/clock.ts";
import { OrchestratorError } from "../core/errors.ts";
import { currentContext } from "../core/request-context.ts";
import type { LedgerEntry, UsageStore } from "../store/usage-store.ts";
import type { LedgerListener } from "./usage-ledger.ts";

export interface BudgetLimits {
  readonly perSessionUsd: number;
  readonly perDayUsd: number;
}

// Sessions whose spend is kept in memory; others are read back from the ledger when they return.
const maxTrackedSessions = 10_000;

// Spending caps: before a paid call, checks what today (UTC) and the caller's session have spent, and
// refuses with 402 once a cap is reached. Totals are kept in memory, loaded from the ledger on start.
export class BudgetGuard implements LedgerListener {
  readonly #limits: BudgetLimits;
  readonly #store: UsageStore;
  readonly #clock: Clock;
  readonly #flush: () => Promise<void>;
  #day = "";
  #dayTotal = 0;
  readonly #sessions = new Map<string, number>();

  constructor(options: {
    limits: BudgetLimits;
    store: UsageStore;
    clock: Clock;
    flush: () => Promise<void>;
  }) {
    this.#limits = options.limits;
    this.#store = options.store;
    this.#clock = options.clock;
    this.#flush = options.flush;
  }

  get enabled(): boolean {
    return this.#limits.perDayUsd > 0 || this.#limits.perSessionUsd > 0;
  }

  async start(): Promise<void> {
    if (!this.enabled) return;
    this.#day = this.#today();
    this.#dayTotal = await this.#store.spentUsd({ since: `${this.#day}T00:00:00.000Z` });
  }

  async check(): Promise<void> {
    if (!this.enabled) return;
    const { perDayUsd, perSessionUsd } = this.#limits;
    this.#rollDay();
    if (perDayUsd > 0 && this.#dayTotal >= perDayUsd) {
      throw budgetExceeded(
        `the daily budget of $${perDayUsd} is spent ($${round(this.#dayTotal)} today); it resets at 00:00 UTC`,
      );
    }
    const sessionId = currentContext()?.sessionId;
    if (perSessionUsd > 0 && sessionId !== undefined) {
      const spent = await this.#sessionTotal(sessionId);
      if (spent >= perSessionUsd) {
        throw budgetExceeded(
          `the budget of $${perSessionUsd} for session ${sessionId} is spent ($${round(spent)}); start a new session or raise budgets.perSessionUsd`,
        );
      }
    }
  }

  onCall(entry: LedgerEntry): void {
    if (!this.enabled || entry.costUsd === 0) return;
    this.#rollDay();
    this.#dayTotal += entry.costUsd;
    const known = entry.sessionId === null ? undefined : this.#sessions.get(entry.sessionId);
    if (entry.sessionId !== null && known !== undefined)
      this.#sessions.set(entry.sessionId, known + entry.costUsd);
  }

  async #sessionTotal(sessionId: string): Promise<number> {
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

  #rollDay(): void {
    const today = this.#today();
    if (today !== this.#day) {
      this.#day = today;
      this.#dayTotal = 0;
    }
  }

  #today(): string {
    return this.#clock.isoNow().slice(0, 10);
  }
}

function budgetExceeded(message: string): OrchestratorError {
  return new OrchestratorError({
    kind: "persistent",
    code: "budget_exceeded",
    status: 402,
    retryable: false,
    message,
  });
}

function round(usd: number): string {
  return usd.toFixed(4);
}
