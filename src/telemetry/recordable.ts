import type { UpstreamCall } from "../store/upstream-call.ts";

// What a ledger row or a Prometheus counter can hold: a finite amount, not below zero. Prices are checked
// where they come in (models/listed-price.ts); this is the last line, so that no arithmetic accident (an
// absurd token count times a price) can make recording a call throw after the upstream was paid, or write
// Infinity into the ledger.
export function isRecordable(value: number): boolean {
  return Number.isFinite(value) && value >= 0;
}

export function recordable(value: number): number {
  return isRecordable(value) ? value : 0;
}

// The call with every amount recordable, and which ones had to be replaced by 0 (empty: the same call).
export function recordableCall(call: UpstreamCall): { call: UpstreamCall; replaced: string[] } {
  const replaced: string[] = [];
  const check = (name: string, value: number | undefined) => {
    if (value !== undefined && !isRecordable(value)) replaced.push(name);
  };
  check("costUsd", call.costUsd);
  check("savedUsd", call.savedUsd);
  check("promptTokens", call.promptTokens);
  check("completionTokens", call.completionTokens);
  check("reasoningTokens", call.reasoningTokens);
  check("cacheReadTokens", call.cacheReadTokens);
  check("cacheWriteTokens", call.cacheWriteTokens);
  // A saving may be negative (cache writes cost more than reads saved), but never infinite.
  if (call.cacheSavedUsd !== undefined && !Number.isFinite(call.cacheSavedUsd))
    replaced.push("cacheSavedUsd");
  check("latencyMs", call.latencyMs);
  if (replaced.length === 0) return { call, replaced };
  return {
    call: {
      ...call,
      costUsd: recordable(call.costUsd),
      promptTokens: recordable(call.promptTokens),
      completionTokens: recordable(call.completionTokens),
      latencyMs: recordable(call.latencyMs),
      ...(call.savedUsd === undefined ? {} : { savedUsd: recordable(call.savedUsd) }),
      ...(call.reasoningTokens === undefined ? {} : { reasoningTokens: recordable(call.reasoningTokens) }),
      ...(call.cacheReadTokens === undefined ? {} : { cacheReadTokens: recordable(call.cacheReadTokens) }),
      ...(call.cacheWriteTokens === undefined ? {} : { cacheWriteTokens: recordable(call.cacheWriteTokens) }),
      ...(call.cacheSavedUsd === undefined
        ? {}
        : { cacheSavedUsd: Number.isFinite(call.cacheSavedUsd) ? call.cacheSavedUsd : 0 }),
    },
    replaced,
  };
}
