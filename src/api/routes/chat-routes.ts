import type { FastifyInstance, FastifyReply } from "fastify";
import type { ChatReply, ChatService } from "../../chat/chat-service.ts";
import { chatBodySchema } from "../schemas.ts";
import { parseInput } from "../validation.ts";

export function registerChatRoutes(app: FastifyInstance, chat: ChatService): void {
  app.post("/chat", async (request, reply) => {
    const body = parseInput(chatBodySchema, request.body);
    const result = await chat.chat(
      {
        message: body.message,
        sessionId: body.session_id,
        contextTokens: body.context_tokens,
        images: body.images,
      },
      abortOnDisconnect(reply),
    );
    return toChatResponse(result);
  });
}

export function toChatResponse(result: ChatReply) {
  const { routing } = result;
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
      cost_usd: roundUsd(result.usage.costUsd),
    },
    ...(result.fallbackFrom ? { fallback_from: result.fallbackFrom } : {}),
    ...(result.workflowId
      ? { workflow_id: result.workflowId, workflow_url: `/workflow/${result.workflowId}` }
      : {}),
    routing: {
      rule: routing.rule,
      context_tokens: routing.contextTokens,
      ...(routing.categorizer
        ? {
            categorizer: {
              source: routing.categorizer.source,
              ...(routing.categorizer.model ? { model: routing.categorizer.model } : {}),
              ...(routing.categorizer.fallbackReason
                ? { fallback_reason: routing.categorizer.fallbackReason }
                : {}),
            },
          }
        : {}),
    },
  };
}

export function roundUsd(value: number): number {
  return Math.round(value * 1e10) / 1e10;
}

// A client that hangs up should not keep paying for an upstream call it will never read.
function abortOnDisconnect(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.on("close", () => {
    if (!reply.raw.writableFinished) controller.abort(new Error("client disconnected"));
  });
  return controller.signal;
}
