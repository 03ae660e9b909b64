import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ModelClient } from "../../models/model-client.ts";
import { sessionParamsSchema } from "../schemas.ts";
import type { Tenancy } from "../tenancy.ts";
import { parseInput } from "../validation.ts";

export const sessionCreatedSchema = z.object({
  session_id: z.string(),
  created_at: z.string(),
  mode: z.enum(["live", "offline"]),
  warmup: z.object({ roles: z.array(z.string()), status: z.enum(["started", "disabled"]) }),
});

export const sessionHistorySchema = z.object({
  session_id: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  messages: z.array(
    z.object({
      role: z.string(),
      content: z.string(),
      timestamp: z.string(),
      tokens: z.number().int(),
      images: z.number().int().optional(),
      category: z.string().optional(),
      model: z.string().optional(),
      provider: z.string().optional(),
      workflow_id: z.string().optional(),
    }),
  ),
});

export function registerSessionRoutes(app: FastifyInstance, tenancy: Tenancy, models: ModelClient): void {
  app.post("/sessions", async (request, reply) => {
    const { session, warmupRoles } = await tenancy.of(request).openSession();
    const created: z.output<typeof sessionCreatedSchema> = {
      session_id: session.id,
      created_at: session.createdAt,
      mode: models.mode,
      warmup: { roles: [...warmupRoles], status: warmupRoles.length > 0 ? "started" : "disabled" },
    };
    return reply.status(201).send(created);
  });

  app.get("/sessions/:id", async (request): Promise<z.output<typeof sessionHistorySchema>> => {
    const { id } = parseInput(sessionParamsSchema, request.params, "path");
    const { session, messages } = await tenancy.of(request).session(id);
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
