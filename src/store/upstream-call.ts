import type { CallPurpose } from "../core/call-purpose.ts";
import type { ErrorKind } from "../core/errors.ts";

// One try at an upstream model, as the cost ledger and the metrics see it. `cached` means the answer
// came from the response cache and no upstream was called.
export type CallOutcome = "ok" | "cached" | ErrorKind;

// "estimate": a call aborted before it answered (a refuted speculative call), priced from its prompt and the
// text that had arrived, since the upstream bills what it processed and reports nothing.
export type CostSource = "upstream" | "price" | "estimate" | "none";

export interface UpstreamCall {
  readonly purpose: CallPurpose | "media" | "embeddings";
  readonly kind: "chat" | "image" | "video" | "embeddings";
  readonly role: string;
  readonly model: string;
  readonly provider: string;
  readonly outcome: CallOutcome;
  readonly errorCode?: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  // Of the completion tokens, those a thinking model spent reasoning.
  readonly reasoningTokens?: number;
  // Of the prompt tokens, those read from and written to the upstream's prompt cache.
  readonly cacheReadTokens?: number;
  readonly cacheWriteTokens?: number;
  // What prompt caching saved at the model's prices (negative when cache writes cost more than reads saved).
  readonly cacheSavedUsd?: number;
  readonly latencyMs: number;
  // What the call cost: as the upstream reported it, or tokens × the configured price.
  readonly costUsd: number;
  readonly costSource: CostSource;
  // For a cache hit: what the original call cost, which this answer did not cost again.
  readonly savedUsd?: number;
}

export interface CallRecorder {
  record(call: UpstreamCall): void;
}

// Calls that exist only because of routing: without it, a request would go straight to the big model.
// Shadow calls (the quality figure's baseline answers and judgings) are not traffic at all. A session's summary
// is the history policy's overhead: it costs what it costs, and the baseline (the whole history sent to the big
// model) makes no such call.
export const routingOverhead: ReadonlySet<UpstreamCall["purpose"]> = new Set<UpstreamCall["purpose"]>([
  "categorize",
  "acknowledge",
  "warmup",
  "summarize",
  "shadow",
  "judge",
  "speculative",
]);
