import type { CallPurpose } from "../core/call-purpose.ts";
import type { TokenUsage } from "../core/usage.ts";

// The one model interface every provider implements; the rest of the service knows only this.

// A prompt-cache breakpoint: the prompt up to and including the part or message that carries it may be
// cached by upstreams that cache explicitly (Anthropic's and Gemini's models take `cache_control`); the
// others cache a repeated prefix on their own and ignore it.
export interface CacheControl {
  readonly type: "ephemeral";
  readonly ttl?: "5m" | "1h";
}

export type ContentPart =
  | { readonly type: "text"; readonly text: string; readonly cacheControl?: CacheControl }
  | { readonly type: "image"; readonly url: string; readonly detail?: string }
  // A document such as a PDF, inline as a data: URL or by an id the upstream issued.
  | {
      readonly type: "file";
      readonly filename?: string;
      readonly fileData?: string;
      readonly fileId?: string;
    }
  | { readonly type: "audio"; readonly data: string; readonly format: string }
  // An assistant turn in which the model declined.
  | { readonly type: "refusal"; readonly refusal: string };

export interface ToolCall {
  readonly id: string;
  readonly type: "function";
  readonly function: { readonly name: string; readonly arguments: string };
}

export interface ChatMessage {
  // "function": the legacy form of a tool result, answering an assistant's function_call by name.
  readonly role: "system" | "user" | "assistant" | "tool" | "function";
  readonly content: string | readonly ContentPart[];
  readonly name?: string;
  // An assistant turn that called tools.
  readonly toolCalls?: readonly ToolCall[];
  // A tool turn: the call it answers.
  readonly toolCallId?: string;
  // An assistant turn of the legacy functions API.
  readonly functionCall?: { readonly name: string; readonly arguments: string };
  // A cache breakpoint after this whole message (see CacheControl).
  readonly cacheControl?: CacheControl;
}

// How much a thinking model may reason: by effort or as a token budget, and whether the text comes back.
export interface ReasoningOptions {
  readonly effort?: "xhigh" | "high" | "medium" | "low" | "minimal" | "none";
  readonly maxTokens?: number;
  readonly exclude?: boolean;
}

// Generation options a client may pass through; each provider forwards what its upstream supports.
export interface GenerationOptions {
  readonly reasoning?: ReasoningOptions;
  readonly temperature?: number;
  readonly maxTokens?: number;
  readonly responseFormat?: Readonly<Record<string, unknown>>;
  readonly tools?: readonly Readonly<Record<string, unknown>>[];
  readonly toolChoice?: unknown;
  readonly user?: string;
  // Sequences that end the answer where they appear.
  readonly stop?: readonly string[];
  // Every other documented OpenAI or OpenRouter parameter the client set (seed, top_p, logit_bias,
  // provider, ...), validated at the edge and sent on under its wire name.
  readonly upstreamParams?: Readonly<Record<string, unknown>>;
}

export interface ChatRequest extends GenerationOptions {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  readonly purpose?: CallPurpose;
}

// Priced above this layer (models/model-client.ts), where it becomes a Usage.
export interface ChatUsage extends TokenUsage {
  // What the upstream says the call cost, when it says so (OpenRouter does).
  readonly reportedCostUsd?: number;
}

export interface ChatResult {
  readonly content: string;
  // The choice's log probabilities, as the upstream sent them, when they were asked for.
  readonly logprobs?: unknown;
  readonly model: string;
  readonly finishReason: string;
  readonly usage: ChatUsage;
  readonly toolCalls?: readonly ToolCall[];
}

export type ChatStreamEvent =
  | { readonly type: "delta"; readonly text: string }
  // Tool-call fragments as the upstream sent them (OpenAI's delta.tool_calls); the done event has them whole.
  | { readonly type: "tool_call_delta"; readonly deltas: readonly unknown[] }
  | { readonly type: "done"; readonly result: ChatResult };

// A provider as configured under `providers` (openrouter, google_ai, openai, anthropic, local, ...), or
// "simulated" offline.
export type ProviderName = string;

export interface ChatProvider {
  readonly name: ProviderName;
  complete(request: ChatRequest): Promise<ChatResult>;
  stream(request: ChatRequest): AsyncIterable<ChatStreamEvent>;
}

export function textOf(content: ChatMessage["content"]): string {
  if (typeof content === "string") return content;
  return content
    .filter((part): part is Extract<ContentPart, { type: "text" }> => part.type === "text")
    .map((part) => part.text)
    .join("\n");
}
