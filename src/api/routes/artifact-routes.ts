import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { notFound } from "../../core/errors.ts";
import { isUuid } from "../../core/ids.ts";
import type { Store } from "../../store/store.ts";
import { parseInput } from "../validation.ts";

const paramsSchema = z.object({ id: z.string().refine(isUuid, "must be a UUID (artifact id)") });

// Generated images and videos, served with their content type. Artifacts never change, so they cache well.
export function registerArtifactRoutes(app: FastifyInstance, store: Store): void {
  app.get("/artifacts/:id", async (request, reply) => {
    const { id } = parseInput(paramsSchema, request.params, "path");
    const artifact = await store.getArtifact(id);
    if (!artifact) throw notFound("artifact", id);
    return reply
      .header("content-type", artifact.contentType)
      .header("cache-control", "public, max-age=31536000, immutable")
      .header("x-simulated", String(artifact.simulated))
      .send(Buffer.from(artifact.data));
  });
}
