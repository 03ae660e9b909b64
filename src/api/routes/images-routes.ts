import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { OrchestratorError } from "../../core/errors.ts";
import type { IdGenerator } from "../../core/ids.ts";
import type { MediaClient } from "../../models/media-client.ts";
import type { ModelCatalog } from "../../models/model-catalog.ts";
import { modelIdSchema } from "../../models/model-id.ts";
import { abortOnDisconnect } from "../abort-on-disconnect.ts";
import type { Tenancy } from "../tenancy.ts";
import { parseInput, unsupported } from "../validation.ts";
import { roundUsd } from "../views.ts";

// https://platform.openai.com/docs/api-reference/images/create (size, quality and style are accepted and
// left to the image role's model, which has its own defaults).
// Strict: a misspelt or unknown field is refused by name.
export const imagesBodySchema = z.strictObject({
  prompt: z.string({ error: "is required: what to draw" }).min(1, "must not be empty").max(32_000),
  model: modelIdSchema("must be an image role such as image_generation_ai").optional(),
  n: z.number().int().min(1).max(4, "at most 4 images per request").optional(),
  response_format: z.enum(["url", "b64_json"]).optional(),
  size: z.string().max(32).optional(),
  quality: z.string().max(32).optional(),
  style: z.string().max(32).optional(),
  user: z.string().optional(),
  // The upstream moderates as it does.
  moderation: z.enum(["auto", "low"]).nullish(),
  background: z
    .enum(["auto", "opaque", "transparent"])
    .nullish()
    .refine((value) => value !== "transparent", "is not supported here: the image role's model decides"),
  output_format: unsupported("images come back in the format the image role's model makes"),
  output_compression: unsupported("images come back as the image role's model makes them"),
  stream: z
    .boolean()
    .nullish()
    .refine((value) => value !== true, "is not supported here: images come back whole"),
  partial_images: unsupported("images come back whole"),
});

export const imagesSchema = z.object({
  created: z.number().int(),
  data: z.array(
    z.union([
      z.object({ b64_json: z.string(), revised_prompt: z.string() }),
      z.object({ url: z.string(), revised_prompt: z.string() }),
    ]),
  ),
  orchestrator: z.object({
    role: z.string(),
    model: z.string().optional(),
    cost_usd: z.number(),
    simulated: z.boolean(),
  }),
});

export interface ImagesRouteDeps {
  readonly media: MediaClient;
  readonly catalog: ModelCatalog;
  // Saved images belong to the client that asked for them.
  readonly tenancy: Tenancy;
  readonly newId: IdGenerator;
  readonly clock: { now(): number };
  readonly callDeadlineMs: number;
  // system.publicUrl: image URLs are absolute under it, or relative without it (never from the Host header).
  readonly publicUrl: string | undefined;
}

// POST /v1/images/generations: OpenAI's image endpoint, answered by the image role (image_generation_ai
// unless `model` names another image role). Images come back inline (b64_json) or as a URL under
// /artifacts, where they are kept like any workflow's images: absolute under system.publicUrl when it is
// set, relative otherwise.
export function registerImagesRoutes(app: FastifyInstance, deps: ImagesRouteDeps): void {
  const imageRoles = deps.catalog.roles().filter(([, d]) => d.kind === "image");
  app.post("/v1/images/generations", async (request, reply): Promise<z.output<typeof imagesSchema>> => {
    const body = parseInput(imagesBodySchema, request.body);
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
    const data = await Promise.all(
      made.map(async (image) => {
        if (inline)
          return { b64_json: Buffer.from(image.data).toString("base64"), revised_prompt: body.prompt };
        const artifact = await deps.tenancy.of(request).saveArtifact({
          id: deps.newId(),
          runId: null,
          contentType: image.contentType,
          data: image.data,
          simulated: image.simulated,
        });
        return { url: `${deps.publicUrl ?? ""}/artifacts/${artifact.id}`, revised_prompt: body.prompt };
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
