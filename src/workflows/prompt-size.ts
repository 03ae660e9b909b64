import type { ModelRoleDefinition } from "../config/index.ts";
import { OrchestratorError } from "../core/errors.ts";

// Prompt sizes are bounded before anything is built: a prompt that repeats a large variable would otherwise
// grow to hundreds of megabytes (and past the engine's string limit) before any model sees it.

// Typical characters per token of prose; sizes in characters become token estimates with it.
export const charsPerToken = 4;

// What an artifact-producing task outputs: the artifact's URL.
const artifactUrlChars = "/artifacts/".length + 36;

// The most characters a task's output is expected to hold: its max output tokens, or an artifact URL.
export function outputCharsBound(definition: ModelRoleDefinition, maxTokens: number | undefined): number {
  if (definition.kind !== "chat") return artifactUrlChars;
  return Math.min(maxTokens ?? definition.maxOutputTokens, definition.maxOutputTokens) * charsPerToken;
}

// The longest prompt a task of this role may send: the configured cap, and what fits the model's context
// window next to the task's output.
export function promptCharLimit(
  definition: ModelRoleDefinition,
  maxTokens: number | undefined,
  maxPromptChars: number,
): { chars: number; reason: string } {
  const outputTokens =
    definition.kind === "chat"
      ? Math.min(maxTokens ?? definition.maxOutputTokens, definition.maxOutputTokens)
      : 0;
  const contextChars = Math.max(0, definition.contextWindow - outputTokens) * charsPerToken;
  return contextChars < maxPromptChars
    ? {
        chars: contextChars,
        reason: `what fits the context window of ${definition.model} (${definition.contextWindow} tokens, about ${charsPerToken} characters each, less ${outputTokens} for the output)`,
      }
    : { chars: maxPromptChars, reason: "orchestration.maxPromptChars" };
}

export function promptTooLarge(where: string, chars: number, limit: { chars: number; reason: string }) {
  return new OrchestratorError({
    kind: "logical",
    code: "prompt_too_large",
    status: 400,
    message: `${where} would be ${chars} characters after its variables are filled in; at most ${limit.chars} are allowed (${limit.reason})`,
  });
}
