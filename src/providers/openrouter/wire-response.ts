import type { ChatCompletion } from "openai/resources/chat/completions";
import type { ChatResult } from "../chat-provider.ts";
import { bodyError, malformed } from "./wire-errors.ts";
import { readUsage } from "./wire-usage.ts";

// A non-streamed chat completion as the service's ChatResult.
export function readCompletion(completion: ChatCompletion & { error?: unknown }, model: string): ChatResult {
  // OpenRouter may answer 200 with an error object and no choices (the provider failed after the
  // request was accepted): that is the upstream's error, not an empty answer.
  const failure = completion?.error;
  if (failure) throw bodyError(failure, model);
  if (!Array.isArray(completion?.choices) || completion.choices.length === 0) {
    throw malformed(model, "the answer has no choices");
  }
  const choice = completion.choices[0];
  const toolCalls = (choice?.message?.tool_calls ?? []).filter((call) => call.type === "function");
  return {
    content: choice?.message?.content ?? "",
    model: completion.model || model,
    finishReason: choice?.finish_reason ?? "stop",
    usage: readUsage(completion.usage),
    ...(toolCalls.length > 0 ? { toolCalls } : {}),
    ...(choice?.logprobs ? { logprobs: choice.logprobs } : {}),
  };
}
