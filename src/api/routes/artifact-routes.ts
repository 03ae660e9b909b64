import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { isUuid } from "../../core/ids.ts";
import type { Tenancy } from "../tenancy.ts";
import { parseInput } from "../validation.ts";

export const artifactParamsSchema = z.object({
  id: z.string().refine(isUuid, "must be a UUID (artifact id)"),
});

// Generated images and videos, served with their content type. Artifacts never change, so they cache well.
export function registerArtifactRoutes(app: FastifyInstance, tenancy: Tenancy): void {
  app.get("/artifacts/:id", async (request, reply) => {
    const { id } = parseInput(artifactParamsSchema, request.params, "path");
    // Another client's artifact is not found.
    const artifact = await tenancy.of(request).artifact(id);
    return (
      reply
        .header("content-type", artifact.contentType)
        // Private: with client keys, a shared cache must not hand one client's artifact to another.
        .header("cache-control", "private, max-age=31536000, immutable")
        .header("x-simulated", String(artifact.simulated))
        .send(Buffer.from(artifact.data))
    );
  });
}
