import type { Logger } from "pino";
import type { ModelRoleDefinition } from "../config/index.ts";
import type { Clock } from "../core/clock.ts";
import { currentContext } from "../core/request-context.ts";
import type { CallRecorder, UpstreamCall } from "../store/upstream-call.ts";
import type { LedgerEntry, RequestEntry, UsageStore } from "../store/usage-store.ts";
import { baselineCost } from "./baseline-cost.ts";
import { recordable, recordableCall } from "./recordable.ts";
import { WriteQueue, type WriteQueueOptions } from "./write-queue.ts";

export interface LedgerListener {
  onCall(entry: LedgerEntry): void;
}

// A row of either table, queued together so that a batch of both commits once.
type CallRow = { readonly call: LedgerEntry };
type UsageRow = CallRow | { readonly request: RequestEntry };
const isCall = (row: UsageRow): row is CallRow => "call" in row;

// Every upstream call, with who it was for (request, client, session, workflow, category) and what it cost,
// written to the store in the background and passed to the metrics and the budgets as it happens.
export class UsageLedger implements CallRecorder {
  readonly #baseline: ModelRoleDefinition;
  readonly #clock: Clock;
  readonly #listeners: LedgerListener[];
  readonly #rows: WriteQueue<UsageRow>;
  readonly #logger: Logger | undefined;
  // Whose rows they are, for work that writes its calls' rows itself (see takeCallsOf).
  readonly #owners = new WeakMap<LedgerEntry, object>();

  constructor(options: {
    store: UsageStore;
    baseline: ModelRoleDefinition;
    clock: Clock;
    listeners: LedgerListener[];
    logger?: Logger;
    // How long a row may wait for its batch (ms).
    flushIntervalMs?: number;
    // The batch timer; tests pass their own.
    schedule?: WriteQueueOptions["schedule"];
  }) {
    this.#baseline = options.baseline;
    this.#clock = options.clock;
    this.#listeners = options.listeners;
    this.#logger = options.logger;
    this.#rows = new WriteQueue(
      "cost ledger and request log rows",
      (rows) => writeRows(options.store, rows),
      {
        logger: options.logger,
        ...(options.flushIntervalMs === undefined ? {} : { flushIntervalMs: options.flushIntervalMs }),
        ...(options.schedule === undefined ? {} : { schedule: options.schedule }),
      },
    );
  }

  record(given: UpstreamCall): void {
    const { call, replaced } = recordableCall(given);
    if (replaced.length > 0) {
      this.#logger?.error(
        { model: call.model, role: call.role, fields: replaced },
        "an upstream call came with amounts that are not finite; they are recorded as 0",
      );
    }
    const context = currentContext();
    const entry: LedgerEntry = {
      ...call,
      at: this.#clock.isoNow(),
      requestId: context?.requestId ?? null,
      endpoint: context?.endpoint ?? null,
      sessionId: context?.sessionId ?? null,
      workflowId: context?.workflowId ?? null,
      category: context?.category ?? null,
      routeRule: context?.routeRule ?? null,
      baselineUsd: recordable(baselineCost(call, this.#baseline)),
      escalation: context?.escalation ?? null,
      shadow: context?.shadow === true,
      clientId: context?.clientId ?? null,
    };
    if (context?.ledgerOwner) this.#owners.set(entry, context.ledgerOwner);
    this.#rows.push({ call: entry });
    for (const listener of this.#listeners) listener.onCall(entry);
    // Every upstream call passes here: build the debug line only when it will be written. The request id
    // and workflow id come from the logger's context, like on every other line.
    if (!this.#logger?.isLevelEnabled("debug")) return;
    this.#logger.debug(
      {
        model: call.model,
        role: call.role,
        purpose: call.purpose,
        outcome: call.outcome,
        ms: Math.round(call.latencyMs),
        tokens_in: call.promptTokens,
        tokens_out: call.completionTokens,
        cost_usd: call.costUsd,
        ...(call.errorCode ? { code: call.errorCode } : {}),
      },
      "upstream call",
    );
  }

  recordRequest(entry: RequestEntry): void {
    this.#rows.push({ request: entry });
  }

  // The queued rows of the calls made under `owner` (a workflow task), taken out of the queue so the task
  // writes them in the same transaction as its result; waits for a batch already writing any of them.
  async takeCallsOf(owner: object): Promise<LedgerEntry[]> {
    const taken = await this.#rows.take((row) => isCall(row) && this.#owners.get(row.call) === owner);
    return taken.filter(isCall).map((row) => row.call);
  }

  // Rows taken by takeCallsOf whose write failed: the queue writes them after all.
  giveBack(entries: readonly LedgerEntry[]): void {
    this.#rows.giveBack(entries.map((call) => ({ call })));
  }

  flush(): Promise<void> {
    return this.#rows.flush();
  }
}

function writeRows(store: UsageStore, rows: readonly UsageRow[]): Promise<void> {
  const calls: LedgerEntry[] = [];
  const requests: RequestEntry[] = [];
  for (const row of rows) {
    if (isCall(row)) calls.push(row.call);
    else requests.push(row.request);
  }
  return store.recordUsage(calls, requests);
}
