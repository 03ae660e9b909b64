import type { ChatUsage } from "../chat-provider.ts";

export interface WireUsage {
  readonly prompt_tokens?: number;
  readonly completion_tokens?: number;
  readonly completion_tokens_details?: { readonly reasoning_tokens?: number | null } | null;
}

export function readUsage(usage: WireUsage | null | undefined): ChatUsage {
  const cost = (usage as { cost?: unknown } | null | undefined)?.cost;
  const reasoning = usage?.completion_tokens_details?.reasoning_tokens;
  return {
    promptTokens: usage?.prompt_tokens ?? 0,
    completionTokens: usage?.completion_tokens ?? 0,
    ...(typeof reasoning === "number" && reasoning > 0 ? { reasoningTokens: reasoning } : {}),
    ...(typeof cost === "number" && Number.isFinite(cost) ? { reportedCostUsd: cost } : {}),
  };
}
