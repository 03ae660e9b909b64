import { z } from "zod";
import type { CacheControl } from "../providers/chat-provider.ts";

// A prompt-cache breakpoint as Anthropic's Messages API and OpenRouter's chat completions take it on a
// content block or part (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching,
// https://openrouter.ai/docs/features/prompt-caching): ephemeral, for 5 minutes or an hour.
export const cacheControlSchema = z.object({
  type: z.literal("ephemeral", { error: "type must be ephemeral" }),
  ttl: z.enum(["5m", "1h"], { error: "ttl must be 5m or 1h" }).optional(),
});

export function toCacheControl(
  wire: z.output<typeof cacheControlSchema> | null | undefined,
): CacheControl | undefined {
  if (!wire) return undefined;
  return { type: wire.type, ...(wire.ttl === undefined ? {} : { ttl: wire.ttl }) };
}
