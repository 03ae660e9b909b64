import type { CallOutcome, UpstreamCall } from "../telemetry/upstream-call.ts";

// The cost ledger and the request log: what /stats, budgets and the savings figure are computed from.

export interface LedgerEntry extends UpstreamCall {
  readonly at: string;
  readonly requestId: string | null;
  readonly endpoint: string | null;
  readonly sessionId: string | null;
  readonly workflowId: string | null;
  readonly category: string | null;
  // What the call would have cost on the baseline role (see telemetry/baseline-cost.ts).
  readonly baselineUsd: number;
  // On the calls that answered in place of an unusable routed answer: why it was unusable.
  readonly escalation?: string | null;
}

export interface RequestEntry {
  readonly at: string;
  readonly requestId: string;
  readonly method: string;
  readonly endpoint: string;
  readonly status: number;
  readonly category: string | null;
  readonly latencyMs: number;
  readonly cacheHit: boolean;
  readonly sessionId: string | null;
}

export interface ModelUsageRow {
  readonly model: string;
  readonly role: string;
  readonly outcome: CallOutcome;
  readonly calls: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costUsd: number;
  readonly baselineUsd: number;
  readonly savedUsd: number;
}

export interface RequestCountRow {
  readonly endpoint: string;
  readonly category: string | null;
  readonly status: number;
  readonly requests: number;
  readonly cacheHits: number;
}

export interface UsageStore {
  recordCalls(entries: readonly LedgerEntry[]): Promise<void>;
  recordRequests(entries: readonly RequestEntry[]): Promise<void>;
  // Total cost of the calls since `since` (ISO time), optionally of one session only.
  spentUsd(filter: { readonly since?: string; readonly sessionId?: string }): Promise<number>;
  // Calls grouped by model, role and outcome, since `since`.
  callsByModel(since: string): Promise<ModelUsageRow[]>;
  // Latencies (ms) of answered calls since `since`, per model, for percentiles.
  latenciesByModel(since: string): Promise<Map<string, number[]>>;
  requestCounts(since: string): Promise<RequestCountRow[]>;
  // Answers given in place of an unusable routed answer since `since`, by why it was unusable.
  escalationCounts(since: string): Promise<Record<string, number>>;
}
