import type { FastifyInstance } from "fastify";
import { notFound } from "../../core/errors.ts";
import type { Store } from "../../store/store.ts";
import { workflowParamsSchema } from "../schemas.ts";
import { parseInput } from "../validation.ts";
import { roundUsd } from "../views.ts";

export function registerWorkflowRoutes(app: FastifyInstance, store: Store): void {
  app.get("/workflow/:id", async (request) => {
    const { id } = parseInput(workflowParamsSchema, request.params, "path");
    const run = await store.getRun(id);
    if (!run) throw notFound("workflow", id);
    return {
      workflow_id: run.id,
      status: run.status,
      session_id: run.sessionId,
      created_at: run.createdAt,
      updated_at: run.updatedAt,
      finished_at: run.finishedAt,
      ...(run.result === null ? {} : { result: run.result }),
      ...(run.error === null ? {} : { error: run.error }),
      ...(run.model === null ? {} : { model: run.model }),
      ...(run.usage === null
        ? {}
        : {
            usage: {
              prompt_tokens: run.usage.promptTokens,
              completion_tokens: run.usage.completionTokens,
              cost_usd: roundUsd(run.usage.costUsd),
            },
          }),
    };
  });
}
