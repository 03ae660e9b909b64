import type { TokenUsage } from "../core/usage.ts";

// How each API shows the prompt-cache part of a usage. The service counts cache reads and writes inside
// the prompt tokens, as OpenAI does; Anthropic's input_tokens leaves both out.

// OpenAI's chat completions: prompt_tokens_details.cached_tokens, always present as OpenAI sends it.
export function openAiPromptDetails(usage: TokenUsage): { prompt_tokens_details: { cached_tokens: number } } {
  return { prompt_tokens_details: { cached_tokens: usage.cacheReadTokens ?? 0 } };
}

// Anthropic's Messages API (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching): input
// tokens after the last cache breakpoint, plus the tokens read from and written to the cache.
export function anthropicInputTokens(usage: TokenUsage): {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
} {
  const read = usage.cacheReadTokens ?? 0;
  const written = usage.cacheWriteTokens ?? 0;
  return {
    input_tokens: Math.max(0, usage.promptTokens - read - written),
    cache_creation_input_tokens: written,
    cache_read_input_tokens: read,
  };
}
