import type { FastifyInstance } from "fastify";
import type { ChatService } from "../../chat/chat-service.ts";
import type { IdGenerator } from "../../core/ids.ts";
import { abortOnDisconnect } from "../abort-on-disconnect.ts";
import { streamCompletion } from "../completion-stream.ts";
import { chatBodySchema } from "../schemas.ts";
import { parseInput } from "../validation.ts";
import { chatResponseView, routingView } from "../views.ts";

export function registerChatRoutes(app: FastifyInstance, chat: ChatService, newId: IdGenerator): void {
  app.post("/chat", async (request, reply) => {
    const body = parseInput(chatBodySchema, request.body);
    if (body.cache && request.orchestration) request.orchestration.preferCache = true;
    const input = {
      message: body.message,
      sessionId: body.session_id,
      contextTokens: body.context_tokens,
      images: body.images,
    };
    const signal = abortOnDisconnect(reply);
    if (!body.stream) return chatResponseView(await chat.chat(input, signal));
    // The same chunk stream as /v1/chat/completions; the first and the last chunk carry the /chat fields.
    await streamCompletion(reply, chat.chatStream(input, signal), {
      id: `chat-${newId()}`,
      created: Math.floor(Date.now() / 1000),
      includeUsage: true,
      describeRoute: (route) => ({
        session_id: route.sessionId,
        category: route.category,
        role: route.role,
        model: route.model,
        routing: routingView(route.routing),
      }),
      describeReply: (done) => chatResponseView(done),
    });
    return reply;
  });
}
