import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { OrchestratorError } from "../../core/errors.ts";
import type { IdGenerator } from "../../core/ids.ts";
import type { MediaClient } from "../../models/media-client.ts";
import type { ModelCatalog } from "../../models/model-catalog.ts";
import type { Store } from "../../store/store.ts";
import { abortOnDisconnect } from "../abort-on-disconnect.ts";
import { clientIdOf } from "../client-identity.ts";
import { parseInput } from "../validation.ts";
import { roundUsd } from "../views.ts";

// https://platform.openai.com/docs/api-reference/images/create (size, quality and style are accepted and
// left to the image role's model, which has its own defaults).
const bodySchema = z.object({
  prompt: z.string({ error: "is required: what to draw" }).min(1, "must not be empty").max(32_000),
  model: z.string().min(1).optional(),
  n: z.number().int().min(1).max(4, "at most 4 images per request").optional(),
  response_format: z.enum(["url", "b64_json"]).optional(),
  size: z.string().max(32).optional(),
  quality: z.string().max(32).optional(),
  style: z.string().max(32).optional(),
  user: z.string().optional(),
});

export interface ImagesRouteDeps {
  readonly media: MediaClient;
  readonly catalog: ModelCatalog;
  readonly store: Store;
  readonly newId: IdGenerator;
  readonly clock: { now(): number };
  readonly callDeadlineMs: number;
}

// POST /v1/images/generations: OpenAI's image endpoint, answered by the image role (image_generation_ai
// unless `model` names another image role). Images come back inline (b64_json) or as a URL under
// /artifacts, where they are kept like any workflow's images.
export function registerImagesRoutes(app: FastifyInstance, deps: ImagesRouteDeps): void {
  const imageRoles = deps.catalog.roles().filter(([, d]) => d.kind === "image");
  app.post("/v1/images/generations", async (request, reply) => {
    const body = parseInput(bodySchema, request.body);
    const role =
      body.model ??
      (deps.catalog.resolve("image_generation_ai") ? "image_generation_ai" : imageRoles[0]?.[0]);
    if (!role || deps.catalog.resolve(role)?.definition.kind !== "image") {
      throw new OrchestratorError({
        kind: "logical",
        code: "model_not_found",
        status: 404,
        field: "model",
        message: `'${body.model ?? "(none)"}' is not an image role here; image roles: ${imageRoles.map(([name]) => name).join(", ") || "none configured"}`,
      });
    }
    const signal = abortOnDisconnect(reply);
    const deadline = deps.clock.now() + deps.callDeadlineMs;
    const made = await Promise.all(
      Array.from({ length: body.n ?? 1 }, () => deps.media.generate(role, body.prompt, { signal, deadline })),
    );
    const inline = body.response_format === "b64_json";
    const origin = `${request.protocol}://${request.host}`;
    const data = await Promise.all(
      made.map(async (image) => {
        if (inline)
          return { b64_json: Buffer.from(image.data).toString("base64"), revised_prompt: body.prompt };
        const artifact = await deps.store.saveArtifact({
          id: deps.newId(),
          runId: null,
          owner: clientIdOf(request) ?? null,
          contentType: image.contentType,
          data: image.data,
          simulated: image.simulated,
        });
        return { url: `${origin}/artifacts/${artifact.id}`, revised_prompt: body.prompt };
      }),
    );
    const first = made[0];
    reply
      .header("x-orchestrator-role", first?.role ?? role)
      .header("x-orchestrator-model", first?.model ?? "");
    return {
      created: Math.floor(deps.clock.now() / 1000),
      data,
      orchestrator: {
        role: first?.role ?? role,
        model: first?.model,
        cost_usd: roundUsd(made.reduce((sum, image) => sum + image.costUsd, 0)),
        simulated: made.some((image) => image.simulated),
      },
    };
  });
}
