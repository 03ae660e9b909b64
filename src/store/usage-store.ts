import type { TraceStep } from "../core/trace-step.ts";
import type { CallOutcome, UpstreamCall } from "./upstream-call.ts";

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
  // A shadow call (a baseline answer or its judging for the quality figure), not part of the user's request.
  readonly shadow?: boolean;
  // The id of the client key the call was made for (a digest, never the key); null in open mode.
  readonly clientId?: string | null;
  // What decided the route of the request the call served (see routing/router.ts).
  readonly routeRule?: string | null;
}

// One sampled request: the baseline's answer to it and the judge's verdict on the routed answer.
export interface ShadowSampleEntry {
  readonly at: string;
  readonly requestId: string | null;
  readonly sessionId: string | null;
  readonly category: string | null;
  readonly routedRole: string;
  readonly routedModel: string;
  readonly baselineRole: string;
  readonly baselineModel: string | null;
  readonly judgeModel: string | null;
  // judged: a verdict was read; unparsed: the judge answered but named no winner; failed: a call failed;
  // over_budget: monitoring.shadow.maxDailyUsd was spent, so nothing was called.
  readonly status: "judged" | "unparsed" | "failed" | "over_budget";
  readonly verdict: "better" | "equal" | "worse" | null;
  readonly reason: string | null;
  // Whether the judge saw the routed answer as A (first) or as B.
  readonly routedFirst: boolean | null;
  readonly errorCode: string | null;
  readonly costUsd: number;
}

export interface ShadowSampleCountRow {
  readonly category: string | null;
  readonly routedModel: string;
  readonly status: ShadowSampleEntry["status"];
  readonly verdict: ShadowSampleEntry["verdict"];
  readonly samples: number;
  readonly costUsd: number;
}

// Judged verdicts of one minute, for one category and routed role: what routing.quality is loaded from.
export interface ShadowVerdictRow {
  // The minute's start, ISO 8601 ("2026-01-01T00:01:00.000Z").
  readonly minute: string;
  readonly category: string | null;
  readonly routedRole: string;
  readonly verdict: NonNullable<ShadowSampleEntry["verdict"]>;
  readonly samples: number;
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
  readonly routeRule?: string | null;
  // Every step that decided the route (the /chat pipeline's requests).
  readonly routeTrace?: readonly TraceStep[] | null;
  // The id of the client key the request presented (a digest, never the key); null in open mode.
  readonly clientId?: string | null;
  // The workflow run the request started or resumed.
  readonly workflowId?: string | null;
}

// What the store knows of one request id, as one client sees it (see UsageStore.requestRecord).
export interface RequestRecord {
  // The request log rows with the id, newest first: more than one only when a client reused its own
  // x-request-id; none while the request is still in flight.
  readonly requests: readonly RequestEntry[];
  // The calls made under the id, in the order they were recorded (the workflow's own calls included).
  readonly calls: readonly LedgerEntry[];
  // The runs the requests started, with their status now.
  readonly runs: readonly { readonly id: string; readonly status: string }[];
}

export interface ModelUsageRow {
  readonly model: string;
  readonly role: string;
  readonly outcome: CallOutcome;
  readonly calls: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  // Of the prompt tokens, those read from and written to the upstream's prompt cache.
  readonly cacheReadTokens: number;
  readonly cacheWriteTokens: number;
  readonly costUsd: number;
  readonly baselineUsd: number;
  // What the response cache saved (cached outcomes).
  readonly savedUsd: number;
  // What the upstream's prompt cache saved, at the models' prices.
  readonly cacheSavedUsd: number;
  readonly shadow: boolean;
}

// Calls grouped by the deployment that made them (the configured provider name and the model id) and outcome:
// the same model id on two providers stays two rows.
export interface DeploymentUsageRow {
  readonly provider: string;
  readonly model: string;
  readonly outcome: CallOutcome;
  readonly calls: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly cacheReadTokens: number;
  readonly costUsd: number;
}

export interface RequestCountRow {
  readonly endpoint: string;
  readonly category: string | null;
  readonly status: number;
  readonly requests: number;
  readonly cacheHits: number;
}

// The width of a /stats series bucket: an hour or a UTC day.
export type SeriesBucket = "hour" | "day";

// The ledger's calls of one bucket, for one model and side (shadow or not).
export interface CallSeriesRow {
  // The bucket's key: the first characters of `at` ("2026-01-02T10" for an hour, "2026-01-02" for a day).
  readonly bucket: string;
  readonly model: string;
  readonly shadow: boolean;
  readonly calls: number;
  readonly costUsd: number;
  readonly baselineUsd: number;
  readonly cacheHits: number;
  // Answers given in place of an unusable routed answer.
  readonly escalations: number;
  // Speculative calls the label refuted, and what they cost.
  readonly speculativeCalls: number;
  readonly speculativeUsd: number;
}

export interface RequestSeriesRow {
  readonly bucket: string;
  readonly category: string | null;
  readonly routeRule: string | null;
  readonly requests: number;
}

export interface VerdictSeriesRow {
  readonly bucket: string;
  readonly verdict: NonNullable<ShadowSampleEntry["verdict"]>;
  readonly samples: number;
}

// Requests that made answering calls (those the baseline prices, not routing overhead or shadow calls) in a
// bucket: what a savings figure is measured over.
export interface AnsweredSeriesRow {
  readonly bucket: string;
  readonly requests: number;
}

export interface SeriesRows {
  readonly calls: readonly CallSeriesRow[];
  readonly answered: readonly AnsweredSeriesRow[];
  readonly requests: readonly RequestSeriesRow[];
  readonly verdicts: readonly VerdictSeriesRow[];
}

export interface SpendFilter {
  readonly since?: string;
  readonly sessionId?: string;
  readonly clientId?: string;
}

export interface UsageStore {
  recordCalls(entries: readonly LedgerEntry[]): Promise<void>;
  recordRequests(entries: readonly RequestEntry[]): Promise<void>;
  // Both kinds of row in one transaction: one commit for a batch of the ledger and the request log.
  recordUsage(calls: readonly LedgerEntry[], requests: readonly RequestEntry[]): Promise<void>;
  // Total cost of the calls since `since` (ISO time), optionally of one session or one client only.
  spentUsd(filter: SpendFilter): Promise<number>;
  // Calls grouped by model, role and outcome, since `since`.
  callsByModel(since: string): Promise<ModelUsageRow[]>;
  // Calls grouped by provider, model and outcome, since `since`.
  callsByDeployment(since: string): Promise<DeploymentUsageRow[]>;
  // Latencies (ms) of answered calls since `since`, per model, for percentiles.
  latenciesByModel(since: string): Promise<Map<string, number[]>>;
  requestCounts(since: string): Promise<RequestCountRow[]>;
  // Answers given in place of an unusable routed answer since `since`, by why it was unusable.
  escalationCounts(since: string): Promise<Record<string, number>>;
  recordShadowSample(entry: ShadowSampleEntry): Promise<void>;
  // Shadow samples since `since`, counted by category, routed model, status and verdict.
  shadowSampleCounts(since: string): Promise<ShadowSampleCountRow[]>;
  // Judged samples since `since`, counted by minute, category, routed role and verdict: a window's verdicts in
  // a bounded number of rows, however busy the window was.
  shadowVerdictsByMinute(since: string): Promise<ShadowVerdictRow[]>;
  // What shadow calls have cost since `since`: what monitoring.shadow.maxDailyUsd is checked against.
  shadowSpentUsd(since: string): Promise<number>;
  // The ledger, the request log and the judged verdicts since `since`, grouped by hour or day: bounded by the
  // number of buckets times the models, categories and route rules, however busy the window was.
  seriesRows(since: string, bucket: SeriesBucket): Promise<SeriesRows>;
  // The time of the oldest call or request kept (ISO), or null when there is none: where `since=all` starts.
  earliestAt(): Promise<string | null>;
  // Speculative calls the label refuted since `since`, and their estimated cost; with all that was spent.
  speculationWaste(since: string): Promise<{ calls: number; costUsd: number; totalUsd: number }>;
  // The request log rows and calls of a request id, only those of `clientId` (null: those made in open
  // mode), with the runs the request started. Kept as long as the ledger keeps its rows.
  requestRecord(requestId: string, clientId: string | null): Promise<RequestRecord>;
}
