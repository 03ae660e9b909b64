import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { notFound } from "../../core/errors.ts";
import { isUuid } from "../../core/ids.ts";
import type { Store } from "../../store/store.ts";
import { clientIdOf } from "../client-identity.ts";
import { parseInput } from "../validation.ts";

export const artifactParamsSchema = z.object({
  id: z.string().refine(isUuid, "must be a UUID (artifact id)"),
});

// Generated images and videos, served with their content type. Artifacts never change, so they cache well.
export function registerArtifactRoutes(app: FastifyInstance, store: Store): void {
  app.get("/artifacts/:id", async (request, reply) => {
    const { id } = parseInput(artifactParamsSchema, request.params, "path");
    const artifact = await store.getArtifact(id);
    // An artifact belongs to the client whose run (or images request) made it; another client's is not found.
    const run = artifact?.runId ? await store.getRun(artifact.runId) : undefined;
    const owner = artifact?.owner ?? run?.owner ?? null;
    if (!artifact || owner !== (clientIdOf(request) ?? null)) throw notFound("artifact", id);
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
