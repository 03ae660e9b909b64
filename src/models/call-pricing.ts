import type { ChatMessage, ChatResult } from "../providers/chat-provider.ts";
import { textOf } from "../providers/chat-provider.ts";
import type { Spend } from "../resilience/upstream-guard.ts";
import { type CostCeiling, costOf, estimatedTokens } from "./model-catalog.ts";
import type { Pricing } from "./pricing.ts";
import { cacheSavingUsd, tokenCounts } from "./prompt-cache-pricing.ts";

// What chat tries cost, as pure functions of a price and a try: what a result spent, what a try may spend
// at most (for budget reservations), and what an aborted speculative try is taken to have spent.

// The prompt's tokens as reservations count them (about 4 characters a token).
export function promptTokensOf(messages: readonly ChatMessage[]): number {
  let chars = 0;
  for (const message of messages) chars += textOf(message.content).length;
  return estimatedTokens(chars);
}

// Priced at the model that answered: a fallback's own price, not its primary's. `pricing` undefined: only
// the upstream's reported cost can price it.
export function spendOf(pricing: Pricing | undefined, result: ChatResult): Spend {
  // Computed from the prices even when the upstream reports its own cost, which stays the cost.
  const cacheSavedUsd = pricing ? cacheSavingUsd(pricing, result.usage) : 0;
  return {
    ...tokenCounts(result.usage),
    costUsd: costOf(pricing && { pricing }, result.usage),
    ...(cacheSavedUsd === 0 ? {} : { cacheSavedUsd }),
    costSource: result.usage.reportedCostUsd === undefined ? (pricing ? "price" : "none") : "upstream",
    // References, not copies: read only by a trace that records them.
    responseModel: result.model,
    finishReason: result.finishReason,
    output: result.content,
  };
}

// What one try may cost at most: the prompt and every output token the call allows (`allowedTokens`, the
// request's max_tokens), at the called model's price. With no max_tokens (a pass-through model), the longest
// answer the model gives, within what its context window leaves after the prompt.
export function worstCaseUsd(
  ceiling: CostCeiling,
  messages: readonly ChatMessage[],
  allowedTokens: number | undefined,
): number {
  const promptTokens = promptTokensOf(messages);
  const allowed = allowedTokens ?? ceiling.maxOutputTokens;
  const room = ceiling.contextWindow === undefined ? allowed : ceiling.contextWindow - promptTokens;
  const outputTokens = Math.max(0, Math.min(allowed, room));
  return (promptTokens * ceiling.inputPerMillion + outputTokens * ceiling.outputPerMillion) / 1_000_000;
}

// What an aborted speculative try is taken to have cost: its whole prompt (the upstream had read it) and
// the text that had arrived, at the model's price.
export function wastedSpend(
  ceiling: CostCeiling,
  messages: readonly ChatMessage[],
  receivedChars: number,
): Spend {
  const promptTokens = promptTokensOf(messages);
  const completionTokens = estimatedTokens(receivedChars);
  return {
    promptTokens,
    completionTokens,
    costUsd:
      (promptTokens * ceiling.inputPerMillion + completionTokens * ceiling.outputPerMillion) / 1_000_000,
    costSource: "estimate",
  };
}
