import type { TokenUsage } from "../core/usage.ts";
import type { Pricing } from "./pricing.ts";

// What a prompt-cache token costs when neither the configuration nor the upstream's model list says, as
// multiples of the input price. Providers document (https://openrouter.ai/docs/features/prompt-caching):
// reads at 0.1× (Anthropic, DeepSeek), 0.25× (Gemini 2.5, Grok) or 0.5× (OpenAI's older models) of the
// input price; writes at 1.25× (Anthropic, 5-minute entries; 2× for 1-hour ones) or at the input price
// (OpenAI, Gemini). The default takes the dearest of each, 0.5× and 1.25×, so that a cost and a budget
// are never understated for a model whose own cache prices are unknown.
export const defaultCacheReadMultiplier = 0.5;
export const defaultCacheWriteMultiplier = 1.25;

export interface CachePrices {
  readonly readPerMillion: number;
  readonly writePerMillion: number;
}

export function cachePricesOf(
  pricing: Pick<Pricing, "inputPerMillion" | "cacheReadPerMillion" | "cacheWritePerMillion">,
): CachePrices {
  return {
    readPerMillion: pricing.cacheReadPerMillion ?? pricing.inputPerMillion * defaultCacheReadMultiplier,
    writePerMillion: pricing.cacheWritePerMillion ?? pricing.inputPerMillion * defaultCacheWriteMultiplier,
  };
}

type PricedTokens = Pick<
  TokenUsage,
  "promptTokens" | "completionTokens" | "cacheReadTokens" | "cacheWriteTokens"
>;

// Uncached input at the input price, cache reads and writes at theirs, output at the output price. The
// cache counts lie inside promptTokens; a count past it is cut (see cacheSplit).
export function tokenCostUsd(pricing: Pricing, usage: PricedTokens): number {
  const { uncached, read, written } = cacheSplit(usage);
  const cache = cachePricesOf(pricing);
  return (
    (uncached * pricing.inputPerMillion +
      read * cache.readPerMillion +
      written * cache.writePerMillion +
      usage.completionTokens * pricing.outputPerMillion) /
    1_000_000
  );
}

// What prompt caching saved on a call, against the same prompt sent uncached: reads × (input − read
// price) less writes × (write − input price). Negative when a call only wrote to the cache at a premium.
export function cacheSavingUsd(pricing: Pricing, usage: PricedTokens): number {
  const { read, written } = cacheSplit(usage);
  if (read === 0 && written === 0) return 0;
  const cache = cachePricesOf(pricing);
  return (
    (read * (pricing.inputPerMillion - cache.readPerMillion) -
      written * (cache.writePerMillion - pricing.inputPerMillion)) /
    1_000_000
  );
}

function cacheSplit(usage: PricedTokens): { uncached: number; read: number; written: number } {
  const prompt = Math.max(0, usage.promptTokens);
  const read = Math.min(Math.max(0, usage.cacheReadTokens ?? 0), prompt);
  const written = Math.min(Math.max(0, usage.cacheWriteTokens ?? 0), prompt - read);
  return { uncached: prompt - read - written, read, written };
}

// A call's token counts without whatever else its usage carries, the optional ones only when present.
export function tokenCounts(usage: TokenUsage): TokenUsage {
  return {
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    ...(usage.reasoningTokens ? { reasoningTokens: usage.reasoningTokens } : {}),
    ...(usage.cacheReadTokens ? { cacheReadTokens: usage.cacheReadTokens } : {}),
    ...(usage.cacheWriteTokens ? { cacheWriteTokens: usage.cacheWriteTokens } : {}),
  };
}
