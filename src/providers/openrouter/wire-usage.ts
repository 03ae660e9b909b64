import type { ChatUsage } from "../chat-provider.ts";

// OpenRouter's usage object (https://openrouter.ai/docs/use-cases/usage-accounting): prompt_tokens counts
// every input token, cached ones included; prompt_tokens_details.cached_tokens are those read from the
// provider's prompt cache and cache_write_tokens those written to it.
export interface WireUsage {
  readonly prompt_tokens?: number;
  readonly completion_tokens?: number;
  readonly completion_tokens_details?: { readonly reasoning_tokens?: number | null } | null;
  readonly prompt_tokens_details?: {
    readonly cached_tokens?: number | null;
    readonly cache_write_tokens?: number | null;
  } | null;
}

export function readUsage(usage: WireUsage | null | undefined): ChatUsage {
  const cost = (usage as { cost?: unknown } | null | undefined)?.cost;
  const reasoning = usage?.completion_tokens_details?.reasoning_tokens;
  const promptTokens = usage?.prompt_tokens ?? 0;
  const { cacheReadTokens, cacheWriteTokens } = cacheTokens(promptTokens, usage?.prompt_tokens_details);
  return {
    promptTokens,
    completionTokens: usage?.completion_tokens ?? 0,
    ...(typeof reasoning === "number" && reasoning > 0 ? { reasoningTokens: reasoning } : {}),
    ...(cacheReadTokens > 0 ? { cacheReadTokens } : {}),
    ...(cacheWriteTokens > 0 ? { cacheWriteTokens } : {}),
    ...(typeof cost === "number" && Number.isFinite(cost) ? { reportedCostUsd: cost } : {}),
  };
}

// Both counts lie inside prompt_tokens: a count that is not a whole number of tokens is none, and one
// larger than what is left of the prompt is cut to it, so uncached input is never negative.
export function cacheTokens(
  promptTokens: number,
  details: WireUsage["prompt_tokens_details"],
): { cacheReadTokens: number; cacheWriteTokens: number } {
  const prompt = tokenCount(promptTokens);
  const cacheReadTokens = Math.min(tokenCount(details?.cached_tokens), prompt);
  const cacheWriteTokens = Math.min(tokenCount(details?.cache_write_tokens), prompt - cacheReadTokens);
  return { cacheReadTokens, cacheWriteTokens };
}

function tokenCount(value: unknown): number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : 0;
}
