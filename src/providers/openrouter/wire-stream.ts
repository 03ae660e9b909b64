import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { bodyError, malformed } from "./wire-errors.ts";

export function parseChunk(data: string, model: string): ChatCompletionChunk & { error?: unknown } {
  let chunk: ChatCompletionChunk & { error?: unknown };
  try {
    chunk = JSON.parse(data) as ChatCompletionChunk & { error?: unknown };
  } catch {
    throw malformed(model, "a stream event is not JSON");
  }
  // An error event inside a stream that had already started (OpenRouter sends finish_reason "error").
  if (chunk.error) throw bodyError(chunk.error, model, "mid-stream");
  return chunk;
}
