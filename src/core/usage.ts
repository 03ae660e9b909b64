// The tokens one or more model calls used. A provider reports these; a price turns them into a Usage.
export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  // Of the completion tokens, those a thinking model spent reasoning; absent when none.
  readonly reasoningTokens?: number;
  // Of the prompt tokens, those the upstream read from its prompt cache (billed at the cache-read price);
  // absent when none. Every provider mapping counts them inside promptTokens, whatever its wire shape.
  readonly cacheReadTokens?: number;
  // Of the prompt tokens, those the upstream wrote to its prompt cache (billed at the cache-write price);
  // absent when none.
  readonly cacheWriteTokens?: number;
}

// What one or more model calls used and cost: a role call's answer, a workflow task or run, a chat reply.
export interface Usage extends TokenUsage {
  readonly costUsd: number;
}

export const zeroUsage: Usage = { promptTokens: 0, completionTokens: 0, costUsd: 0 };

// Tokens of two calls together; the optional counts only when either had some.
export function addTokens(a: TokenUsage, b: TokenUsage): TokenUsage {
  const reasoningTokens = (a.reasoningTokens ?? 0) + (b.reasoningTokens ?? 0);
  const cacheReadTokens = (a.cacheReadTokens ?? 0) + (b.cacheReadTokens ?? 0);
  const cacheWriteTokens = (a.cacheWriteTokens ?? 0) + (b.cacheWriteTokens ?? 0);
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    ...(reasoningTokens > 0 ? { reasoningTokens } : {}),
    ...(cacheReadTokens > 0 ? { cacheReadTokens } : {}),
    ...(cacheWriteTokens > 0 ? { cacheWriteTokens } : {}),
  };
}

// Takes only the Usage fields of each side, so a richer record (a Spend with its trace text) adds in plainly.
export function addUsage(a: Usage, b: Usage): Usage {
  return { ...addTokens(a, b), costUsd: a.costUsd + b.costUsd };
}

export function sumUsage(usages: Iterable<Usage>): Usage {
  let total = zeroUsage;
  for (const usage of usages) total = addUsage(total, usage);
  return total;
}
