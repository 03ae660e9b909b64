import type { ChatReply, RoutingInfo } from "../chat/chat-service.ts";

// JSON views shared by the endpoints: snake_case on the wire, camelCase inside.

export function roundUsd(value: number): number {
  return Math.round(value * 1e10) / 1e10;
}

export function routingView(info: RoutingInfo) {
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

export function chatResponseView(result: ChatReply) {
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
export function orchestratorView(done: ChatReply, extraCostUsd: number) {
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
