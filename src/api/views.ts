import { z } from "zod";
import type { ChatReply } from "../chat/chat-service.ts";
import type { RoutingInfo } from "../chat/routing-info.ts";

// JSON views shared by the endpoints: snake_case on the wire, camelCase inside. Each view's schema is its
// response shape in the OpenAPI document; the views are typed by them, so the two cannot part.

const usd = z.number().describe("USD, rounded to 1e-10");

export const routingSchema = z
  .object({
    rule: z.enum(["images", "large_context", "very_large_context", "category", "explicit"]),
    context_tokens: z.number().int(),
    speculation: z.enum(["confirmed", "refuted"]).optional(),
    stepped_up: z.literal(true).optional(),
    skipped: z.array(z.object({ role: z.string(), reason: z.string() })).optional(),
    categorizer: z
      .object({
        source: z.enum(["model", "fallback", "memo"]),
        model: z.string().optional(),
        fallback_reason: z.string().optional(),
        ms: z.number().int().optional(),
      })
      .optional(),
    escalated: z
      .object({
        from_role: z.string(),
        from_model: z.string(),
        reason: z.enum(["empty", "length", "invalid_json", "refusal"]),
      })
      .optional(),
    trace: z.array(z.object({ step: z.string(), detail: z.string(), ms: z.number().int().optional() })),
  })
  .describe(
    "Why the request went where it went: the rule, the categorizer's verdict and every step in order",
  );

const categorySchema = z.enum(["L", "M", "H"]).nullable();
// The configured provider that answered (openrouter, openai, anthropic, google_ai, a local one), or simulated.
const providerSchema = z.string();

export const chatResponseSchema = z.object({
  session_id: z.string().nullable(),
  response: z.string(),
  timestamp: z.string(),
  category: categorySchema,
  model: z.string(),
  role: z.string(),
  provider: providerSchema,
  usage: z.object({
    prompt_tokens: z.number().int(),
    completion_tokens: z.number().int(),
    reasoning_tokens: z.number().int().optional(),
    // Of the prompt tokens, those read from and written to the upstream's prompt cache.
    cache_read_tokens: z.number().int().optional(),
    cache_write_tokens: z.number().int().optional(),
    cost_usd: usd,
  }),
  fallback_from: z.string().optional(),
  cached: z.literal(true).optional(),
  workflow_id: z.string().optional(),
  workflow_url: z.string().optional(),
  routing: routingSchema,
});

export const orchestratorSchema = z
  .object({
    category: categorySchema,
    role: z.string(),
    provider: providerSchema,
    cost_usd: usd,
    routing: routingSchema,
    fallback_from: z.string().optional(),
    cached: z.literal(true).optional(),
    workflow_id: z.string().optional(),
  })
  .describe("Extension: who answered, why, and what it cost");

export function roundUsd(value: number): number {
  return Math.round(value * 1e10) / 1e10;
}

export function routingView(info: RoutingInfo): z.output<typeof routingSchema> {
  return {
    rule: info.rule,
    context_tokens: info.contextTokens,
    ...(info.speculation ? { speculation: info.speculation } : {}),
    ...(info.steppedUp ? { stepped_up: true } : {}),
    ...(info.skipped ? { skipped: info.skipped.map((s) => ({ role: s.role, reason: s.reason })) } : {}),
    ...(info.categorizer
      ? {
          categorizer: {
            source: info.categorizer.source,
            ...(info.categorizer.model ? { model: info.categorizer.model } : {}),
            ...(info.categorizer.fallbackReason ? { fallback_reason: info.categorizer.fallbackReason } : {}),
            ...(info.categorizer.ms === undefined ? {} : { ms: Math.round(info.categorizer.ms) }),
          },
        }
      : {}),
    ...(info.escalated
      ? {
          escalated: {
            from_role: info.escalated.fromRole,
            from_model: info.escalated.fromModel,
            reason: info.escalated.reason,
          },
        }
      : {}),
    trace: info.trace.map((t) => ({
      step: t.step,
      detail: t.detail,
      ...(t.ms === undefined ? {} : { ms: Math.round(t.ms) }),
    })),
  };
}

export function chatResponseView(result: ChatReply): z.output<typeof chatResponseSchema> {
  return {
    session_id: result.sessionId,
    response: result.response,
    timestamp: result.timestamp,
    category: result.category,
    model: result.model,
    role: result.role,
    provider: result.provider,
    usage: {
      prompt_tokens: result.usage.promptTokens,
      completion_tokens: result.usage.completionTokens,
      ...(result.usage.reasoningTokens ? { reasoning_tokens: result.usage.reasoningTokens } : {}),
      ...(result.usage.cacheReadTokens ? { cache_read_tokens: result.usage.cacheReadTokens } : {}),
      ...(result.usage.cacheWriteTokens ? { cache_write_tokens: result.usage.cacheWriteTokens } : {}),
      cost_usd: roundUsd(result.usage.costUsd),
    },
    ...(result.fallbackFrom ? { fallback_from: result.fallbackFrom } : {}),
    ...(result.cached ? { cached: true } : {}),
    ...(result.workflowId
      ? { workflow_id: result.workflowId, workflow_url: `/workflow/${result.workflowId}` }
      : {}),
    routing: routingView(result.routing),
  };
}

// The `orchestrator` extension of the OpenAI-style endpoints' answers: who answered, why, and the cost.
export function orchestratorView(done: ChatReply, extraCostUsd: number): z.output<typeof orchestratorSchema> {
  return {
    category: done.category,
    role: done.role,
    provider: done.provider,
    cost_usd: roundUsd(done.usage.costUsd + extraCostUsd),
    routing: routingView(done.routing),
    ...(done.fallbackFrom ? { fallback_from: done.fallbackFrom } : {}),
    ...(done.cached ? { cached: true } : {}),
    ...(done.workflowId ? { workflow_id: done.workflowId } : {}),
  };
}
