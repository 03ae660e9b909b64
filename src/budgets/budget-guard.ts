import type { Clock } from "../core/clock.ts";
import { OrchestratorError } from "../core/errors.ts";
import { currentContext } from "../core/request-context.ts";
import { visibleSessionId } from "../core/session-scope.ts";
import type { CallHook, GuardedCall, HookTicket, Spend } from "../resilience/upstream-guard.ts";
import { type BudgetLine, fits, type SpendTotals } from "./spend-totals.ts";

export interface BudgetLimits {
  readonly perSessionUsd: number;
  readonly perDayUsd: number;
  readonly perClientUsd: number;
  // Shadow calls' own daily cap (monitoring.shadow.maxDailyUsd); 0 or absent: none.
  readonly shadowPerDayUsd?: number;
}

// Spending caps, held under concurrency: before each upstream call its worst-case cost is reserved against
// every budget that applies (today's, the session's, the API client's today) and the call is refused with
// 402 when it does not fit; when the call ends the reservation is settled to what it actually cost, or
// released. Parallel calls therefore cannot pass a cap together, however many run at once. A shadow call
// (the quality figure's baseline answer or judging) is the deployment's spending, not the sampled client's:
// it draws on today's budget and the shadow budget, never on a session's or a client's.
export class BudgetGuard implements CallHook {
  readonly #limits: BudgetLimits;
  readonly #totals: SpendTotals;
  readonly #clock: Clock;

  constructor(options: { limits: BudgetLimits; totals: SpendTotals; clock: Clock }) {
    this.#limits = options.limits;
    this.#totals = options.totals;
    this.#clock = options.clock;
  }

  get enabled(): boolean {
    const { perDayUsd, perSessionUsd, perClientUsd } = this.#limits;
    return perDayUsd > 0 || perSessionUsd > 0 || perClientUsd > 0 || (this.#limits.shadowPerDayUsd ?? 0) > 0;
  }

  // A quick refusal before anything else is done (say, the cache looked up) once a budget is used up.
  async check(): Promise<void> {
    for (const line of this.#lines()) {
      const committed = await this.#totals.committed(line);
      if (!fits(committed, 0, line.capUsd)) throw budgetExceeded(line, committed);
    }
  }

  async before(call: GuardedCall): Promise<HookTicket | undefined> {
    const lines = this.#lines();
    if (lines.length === 0) return undefined;
    const amount = call.worstCaseUsd ?? 0;
    const outcome = await this.#totals.reserve(lines, amount);
    if (!outcome.ok)
      throw budgetExceeded(outcome.refused, await this.#totals.committed(outcome.refused), amount);
    const { reservation } = outcome;
    return {
      settle: (spend: Spend) => reservation.settle(spend.costUsd),
      release: () => reservation.settle(0),
    };
  }

  #lines(): BudgetLine[] {
    const { perDayUsd, perSessionUsd, perClientUsd, shadowPerDayUsd = 0 } = this.#limits;
    const context = currentContext();
    const shadow = context?.shadow === true;
    // Most deployments set no cap: nothing to compute on the hot path then.
    if (
      shadow
        ? perDayUsd <= 0 && shadowPerDayUsd <= 0
        : perDayUsd <= 0 && perSessionUsd <= 0 && perClientUsd <= 0
    )
      return [];
    const day = this.#clock.isoNow().slice(0, 10);
    const lines: BudgetLine[] = [];
    if (perDayUsd > 0) lines.push({ kind: "day", day, capUsd: perDayUsd });
    if (shadow) {
      if (shadowPerDayUsd > 0) lines.push({ kind: "shadow", day, capUsd: shadowPerDayUsd });
      return lines;
    }
    if (perSessionUsd > 0 && context?.sessionId !== undefined)
      lines.push({ kind: "session", sessionId: context.sessionId, capUsd: perSessionUsd });
    if (perClientUsd > 0 && context?.clientId !== undefined)
      lines.push({ kind: "client", clientId: context.clientId, day, capUsd: perClientUsd });
    return lines;
  }
}

function budgetExceeded(line: BudgetLine, committed: number, amount = 0): OrchestratorError {
  const what = `($${round(committed)} spent or reserved${amount > 0 ? `, this call may cost up to $${round(amount)}` : ""})`;
  const message =
    line.kind === "day"
      ? `the daily budget of $${line.capUsd} is used up ${what}; it resets at 00:00 UTC`
      : line.kind === "session"
        ? `the budget of $${line.capUsd} for session ${visibleSessionId(line.sessionId)} is used up ${what}; start a new session or raise budgets.perSessionUsd`
        : line.kind === "client"
          ? `this client's daily budget of $${line.capUsd} (budgets.perClientUsd) is used up ${what}; it resets at 00:00 UTC`
          : `the daily budget of $${line.capUsd} for shadow sampling (monitoring.shadow.maxDailyUsd) is used up ${what}; it resets at 00:00 UTC`;
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
