import type { ChatRequest, ChatResult, ReasoningOptions } from "../providers/chat-provider.ts";
import type { Attempt } from "../resilience/upstream-guard.ts";
import type { ResolvedRole } from "./model-catalog.ts";
import type { RoleCall } from "./role-call.ts";

// The model a request goes to and the output room it is held to (the role's, or a deployment's own).
export interface RequestTarget {
  readonly model: string;
  readonly maxOutputTokens: number;
  readonly contextWindow: number;
}

// The provider request for one try of a role call at `target`. `atLeast`: output room a retry after a
// cut-off empty answer needs, whatever the role's ceiling.
export function chatRequest(
  resolved: ResolvedRole,
  call: RoleCall,
  target: RequestTarget,
  attempt?: Attempt,
  atLeast?: number,
): ChatRequest {
  const { definition } = resolved;
  const temperature = call.temperature ?? definition.temperature;
  const reasoning = call.reasoning ?? definition.reasoning;
  // A pass-through model has no configured ceiling: only the caller's own max_tokens is sent.
  const answerTokens = resolved.passthrough
    ? call.maxTokens
    : Math.min(call.maxTokens ?? target.maxOutputTokens, target.maxOutputTokens);
  const sized =
    answerTokens === undefined ? undefined : withReasoningRoom(answerTokens, reasoning, target.contextWindow);
  const maxTokens = atLeast === undefined ? sized : Math.max(sized ?? 0, atLeast);
  return {
    model: target.model,
    messages: call.messages,
    purpose: call.purpose,
    ...(attempt ? { timeoutMs: attempt.timeoutMs, signal: attempt.signal } : {}),
    ...(reasoning === undefined ? {} : { reasoning }),
    ...(maxTokens === undefined ? {} : { maxTokens }),
    ...(temperature === undefined ? {} : { temperature }),
    ...(call.responseFormat === undefined ? {} : { responseFormat: call.responseFormat }),
    ...(call.tools === undefined ? {} : { tools: call.tools }),
    ...(call.toolChoice === undefined ? {} : { toolChoice: call.toolChoice }),
    ...(call.user === undefined ? {} : { user: call.user }),
    ...(call.stop === undefined ? {} : { stop: call.stop }),
    ...(call.upstreamParams === undefined ? {} : { upstreamParams: call.upstreamParams }),
  };
}

// Twice the output room the cut-off try had (`sentMaxTokens`: the max_tokens it was sent with).
export function moreRoom(sentMaxTokens: number | undefined, cutOff: ChatResult): number {
  const sent = sentMaxTokens ?? cutOff.usage.completionTokens;
  return Math.max(2 * sent, 2 * cutOff.usage.completionTokens, 256);
}

// How much of the output OpenRouter lets each effort spend on reasoning
// (https://openrouter.ai/docs/use-cases/reasoning-tokens): the answer needs the rest.
const reasoningShare: Record<NonNullable<ReasoningOptions["effort"]>, number> = {
  xhigh: 0.95,
  high: 0.8,
  medium: 0.5,
  low: 0.2,
  minimal: 0.1,
  none: 0,
};

// max_tokens covers reasoning and answer together, so a thinking model gets its reasoning on top of the
// answer's room: a token budget is added, an effort's share is grown into. Never past half the context.
export function withReasoningRoom(
  answerTokens: number,
  reasoning: ReasoningOptions | undefined,
  contextWindow: number,
): number {
  if (!reasoning) return answerTokens;
  const total =
    reasoning.maxTokens !== undefined
      ? answerTokens + reasoning.maxTokens
      : // (less a hair, so 1000 / 0.2 is 5000 and not 5001 after floating-point rounding)
        Math.ceil(answerTokens / (1 - reasoningShare[reasoning.effort ?? "medium"]) - 1e-6);
  return Math.max(answerTokens, Math.min(total, Math.floor(contextWindow / 2)));
}
