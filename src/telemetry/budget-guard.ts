import type { Clock } from "../core/clock.ts";
import { OrchestratorError } from "../core/errors.ts";
import { currentContext } from "../core/request-context.ts";
import type { LedgerEntry } from "../store/usage-store.ts";
import type { SpendTotals } from "./spend-totals.ts";
import type { LedgerListener } from "./usage-ledger.ts";

export interface BudgetLimits {
  readonly perSessionUsd: number;
  readonly perDayUsd: number;
}

// Spending caps: before a paid call, checks what today (UTC) and the caller's session have spent, and
// refuses with 402 once a cap is reached.
export class BudgetGuard implements LedgerListener {
  readonly #limits: BudgetLimits;
  readonly #totals: SpendTotals;
  readonly #clock: Clock;

  constructor(options: { limits: BudgetLimits; totals: SpendTotals; clock: Clock }) {
    this.#limits = options.limits;
    this.#totals = options.totals;
    this.#clock = options.clock;
  }

  get enabled(): boolean {
    return this.#limits.perDayUsd > 0 || this.#limits.perSessionUsd > 0;
  }

  async check(): Promise<void> {
    if (!this.enabled) return;
    const { perDayUsd, perSessionUsd } = this.#limits;
    if (perDayUsd > 0) {
      const today = await this.#totals.day(this.#today());
      if (today >= perDayUsd) {
        throw budgetExceeded(
          `the daily budget of $${perDayUsd} is spent ($${round(today)} today); it resets at 00:00 UTC`,
        );
      }
    }
    const sessionId = currentContext()?.sessionId;
    if (perSessionUsd > 0 && sessionId !== undefined) {
      const spent = await this.#totals.session(sessionId);
      if (spent >= perSessionUsd) {
        throw budgetExceeded(
          `the budget of $${perSessionUsd} for session ${sessionId} is spent ($${round(spent)}); start a new session or raise budgets.perSessionUsd`,
        );
      }
    }
  }

  onCall(entry: LedgerEntry): void {
    if (!this.enabled || entry.costUsd === 0) return;
    this.#totals.add(entry, this.#today());
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
