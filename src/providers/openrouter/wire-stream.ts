import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import type { ToolCall } from "../chat-provider.ts";
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

// Tool calls arrive in fragments keyed by index: the first carries id and name, later ones more arguments.
export class ToolCallAssembler {
  readonly #byIndex = new Map<number, { id: string; name: string; arguments: string }>();

  add(deltas: ReadonlyArray<ChatCompletionChunk.Choice.Delta.ToolCall>): void {
    for (const delta of deltas) {
      const current = this.#byIndex.get(delta.index) ?? { id: "", name: "", arguments: "" };
      if (delta.id) current.id = delta.id;
      if (delta.function?.name) current.name += delta.function.name;
      if (delta.function?.arguments) current.arguments += delta.function.arguments;
      this.#byIndex.set(delta.index, current);
    }
  }

  calls(): ToolCall[] {
    return [...this.#byIndex.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, call]) => ({
        id: call.id,
        type: "function",
        function: { name: call.name, arguments: call.arguments },
      }));
  }
}
