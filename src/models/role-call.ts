import type { CallPurpose } from "../core/call-purpose.ts";
import type { Usage } from "../core/usage.ts";
import type { ChatMessage, GenerationOptions, ProviderName, ToolCall } from "../providers/chat-provider.ts";
import type { HeldSlot } from "../resilience/held-slot.ts";
import type { Priority } from "../resilience/priority-scheduler.ts";
import type { Speculation } from "./speculation.ts";

export interface RoleCall extends GenerationOptions {
  readonly messages: readonly ChatMessage[];
  readonly purpose: CallPurpose;
  readonly priority?: Priority;
  readonly signal?: AbortSignal;
  // Absolute time (ms) by which the whole call, retries and fallbacks included, must be over.
  readonly deadline?: number;
  // A slot of the primary model granted before the call (a queued workflow task): its first try uses it.
  readonly slot?: HeldSlot;
  // Started before the route was known (see speculation.ts).
  readonly speculation?: Speculation;
}

// What a call takes from the request it serves. ModelClient reads it from the request context when the
// caller passes none; everything below the client gets it as an argument.
export interface CallScope {
  // When everything the request does must be over (ms since the epoch).
  readonly deadline?: number | undefined;
  // The client asked for caching even where it is not the default (temperature above 0).
  readonly preferCache?: boolean | undefined;
  // Cache-Control: no-cache: do not answer from the response cache.
  readonly skipCache?: boolean | undefined;
  // Whose answers a cache key belongs to (the client key's id).
  readonly clientId?: string | undefined;
  // Told when the request's answer came from the response cache.
  readonly onCacheHit?: (() => void) | undefined;
}

export interface RoleCallResult {
  readonly content: string;
  readonly role: string;
  readonly model: string;
  readonly provider: ProviderName;
  readonly finishReason: string;
  readonly usage: Usage;
  readonly latencyMs: number;
  // Set when the role's own model failed and a fallback answered.
  readonly fallbackFrom?: string;
  readonly toolCalls?: readonly ToolCall[];
  readonly logprobs?: unknown;
  // Answered from the response cache: nothing was sent upstream and nothing was spent.
  readonly cached?: true;
}

// Text and tool-call events name the model that produces them: after a fallback, not the role's own.
export type RoleStreamEvent =
  | { readonly type: "delta"; readonly text: string; readonly model: string }
  | { readonly type: "tool_call_delta"; readonly deltas: readonly unknown[]; readonly model: string }
  | { readonly type: "done"; readonly result: RoleCallResult };
