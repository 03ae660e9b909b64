import type { FastifyInstance } from "fastify";
import type { SessionService } from "../../chat/session-service.ts";
import type { ModelClient } from "../../models/model-client.ts";
import { clientIdOf } from "../client-identity.ts";
import { sessionParamsSchema } from "../schemas.ts";
import { parseInput } from "../validation.ts";

export function registerSessionRoutes(
  app: FastifyInstance,
  sessions: SessionService,
  models: ModelClient,
): void {
  app.post("/sessions", async (request, reply) => {
    const { session, warmupRoles } = await sessions.open(clientIdOf(request));
    return reply.status(201).send({
      session_id: session.id,
      created_at: session.createdAt,
      mode: models.mode,
      warmup: { roles: warmupRoles, status: warmupRoles.length > 0 ? "started" : "disabled" },
    });
  });

  app.get("/sessions/:id", async (request) => {
    const { id } = parseInput(sessionParamsSchema, request.params, "path");
    const { session, messages } = await sessions.history(id, clientIdOf(request));
    return {
      session_id: session.id,
      created_at: session.createdAt,
      updated_at: session.updatedAt,
      messages: messages.map((m) => ({
        role: m.role,
        content: m.content,
        timestamp: m.createdAt,
        tokens: m.tokens,
        ...(m.imageCount ? { images: m.imageCount } : {}),
        ...(m.category ? { category: m.category } : {}),
        ...(m.model ? { model: m.model } : {}),
        ...(m.provider ? { provider: m.provider } : {}),
        ...(m.workflowId ? { workflow_id: m.workflowId } : {}),
      })),
    };
  });
}
