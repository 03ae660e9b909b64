import { clip } from "../core/clip.ts";
import { scrubSecrets } from "../core/secrets.ts";
import type { TraceSpan } from "../core/trace-span.ts";
import { type ChatMessage, textOf } from "../providers/chat-provider.ts";
import type { UpstreamCall } from "../store/upstream-call.ts";

// What the guard knows of a try beyond its ledger row.
export interface CallDetails {
  // 1 for the first try of a call, 2 for its first retry...
  readonly attempt?: number;
  // The role's own model failed and this is one of its fallbacks.
  readonly fallback?: boolean;
  readonly circuitState?: string;
  readonly responseModel?: string | undefined;
  readonly finishReason?: string | undefined;
  // Recorded only when the span captures content (monitoring.otel.captureContent).
  readonly input?: readonly ChatMessage[] | undefined;
  readonly output?: string | undefined;
  // Background work for the quality figure (a baseline answer or a judging).
  readonly shadow?: boolean;
}

// Each message's text is clipped to this many characters, and the whole list to eight times it.
const maxContentChars = 4_000;

const operations = {
  chat: "chat",
  embeddings: "embeddings",
  image: "generate_content",
  video: "generate_content",
};

// Provider names as the GenAI semantic conventions spell them (gen_ai.provider.name).
const providerNames: Readonly<Record<string, string>> = { google_ai: "gcp.gemini" };

// One try at an upstream model as a GenAI client span (OpenTelemetry GenAI semantic conventions), recorded
// once it is over from what the ledger records of it, under `parent` (the request's, run's or task's span).
export function traceCall(
  parent: TraceSpan | undefined,
  call: UpstreamCall,
  details: CallDetails,
  endTime: number,
): void {
  if (!parent) return;
  const operation = operations[call.kind];
  const failed = call.outcome !== "ok" && call.outcome !== "cached";
  const span = parent.child(`${operation} ${call.model}`, {
    kind: "client",
    startTime: endTime - call.latencyMs,
    attributes: {
      "gen_ai.operation.name": operation,
      "gen_ai.provider.name": providerNames[call.provider] ?? call.provider,
      "gen_ai.request.model": call.model,
      "gen_ai.response.model": details.responseModel,
      "gen_ai.usage.input_tokens": call.promptTokens,
      "gen_ai.usage.output_tokens": call.completionTokens,
      "gen_ai.usage.reasoning_tokens": call.reasoningTokens,
      // Part of gen_ai.usage.input_tokens, as the conventions count them.
      "gen_ai.usage.cache_read.input_tokens": call.cacheReadTokens || undefined,
      "gen_ai.usage.cache_creation.input_tokens": call.cacheWriteTokens || undefined,
      "orchestrator.cache_saved_usd": call.cacheSavedUsd || undefined,
      "gen_ai.response.finish_reasons": details.finishReason ? [details.finishReason] : undefined,
      "orchestrator.role": call.role,
      "orchestrator.purpose": call.purpose,
      "orchestrator.outcome": call.outcome,
      "orchestrator.cost_usd": call.costUsd,
      "orchestrator.cost_source": call.costSource,
      "orchestrator.saved_usd": call.savedUsd,
      "orchestrator.retry": details.attempt === undefined ? undefined : details.attempt - 1,
      "orchestrator.fallback": details.fallback,
      "orchestrator.cache_hit": call.outcome === "cached",
      "orchestrator.circuit_state": details.circuitState,
      "orchestrator.shadow": details.shadow || undefined,
    },
  });
  if (span.capturesContent) {
    span.set({
      "gen_ai.input.messages": details.input ? inputMessages(details.input) : undefined,
      "gen_ai.output.messages":
        details.output === undefined ? undefined : outputMessages(details.output, details.finishReason),
    });
  }
  if (failed) span.fail(call.errorCode ?? call.outcome);
  span.end(endTime);
}

// The GenAI conventions' message shape (role, parts), as JSON; text only, clipped and scrubbed of keys.
function inputMessages(messages: readonly ChatMessage[]): string {
  return clipped(
    JSON.stringify(
      messages.map((message) => ({
        role: message.role,
        parts: [{ type: "text", content: clipContent(scrubSecrets(textOf(message.content))) }],
      })),
    ),
  );
}

function outputMessages(text: string, finishReason: string | undefined): string {
  return clipped(
    JSON.stringify([
      {
        role: "assistant",
        parts: [{ type: "text", content: clipContent(scrubSecrets(text)) }],
        ...(finishReason ? { finish_reason: finishReason } : {}),
      },
    ]),
  );
}

function clipContent(text: string): string {
  return clip(text, maxContentChars, "…");
}

function clipped(json: string): string {
  return clip(json, 8 * maxContentChars, "…");
}
