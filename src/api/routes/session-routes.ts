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

// A page of the history: the newest `limit` messages before the message id `before` (GET /sessions/{id}
// without them lists every message).
export const sessionHistoryQuerySchema = z.object({
  limit: z.coerce
    .number({ message: "must be a whole number from 1 to 1000" })
    .int("must be a whole number from 1 to 1000")
    .min(1, "must be a whole number from 1 to 1000")
    .max(1000, "must be a whole number from 1 to 1000")
    .optional(),
  before: z.coerce
    .number({ message: "must be a message id (a positive whole number)" })
    .int("must be a message id (a positive whole number)")
    .positive("must be a message id (a positive whole number)")
    .optional(),
});

export const sessionHistorySchema = z.object({
  session_id: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  // Running totals of the whole conversation, and what of it the history policy has folded into the summary.
  message_count: z.number().int(),
  total_tokens: z.number().int(),
  summary: z.object({ text: z.string(), tokens: z.number().int(), messages: z.number().int() }).nullable(),
  // With a page: the `before` of the next (older) page, or null when this page reaches the first message.
  next_before: z.number().int().nullable().optional(),
  messages: z.array(
    z.object({
      id: z.number().int(),
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
    const query = parseInput(sessionHistoryQuerySchema, request.query, "query");
    const paged = query.limit !== undefined || query.before !== undefined;
    const page = paged ? { limit: query.limit ?? 100, before: query.before } : undefined;
    const { session, messages } = await tenancy.of(request).session(id, page);
    const oldest = messages[0];
    return {
      session_id: session.id,
      created_at: session.createdAt,
      updated_at: session.updatedAt,
      message_count: session.messageCount,
      total_tokens: session.totalTokens,
      summary: session.summary
        ? { text: session.summary, tokens: session.summaryTokens, messages: session.summarizedMessages }
        : null,
      ...(page ? { next_before: oldest && messages.length === page.limit ? oldest.id : null } : {}),
      messages: messages.map((m) => ({
        id: m.id,
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

  // Deletes the session now, with its messages and summary (owner only; 409 while a workflow of it runs).
  app.delete("/sessions/:id", async (request, reply) => {
    const { id } = parseInput(sessionParamsSchema, request.params, "path");
    await tenancy.of(request).deleteSession(id);
    return reply.status(204).send();
  });
}
