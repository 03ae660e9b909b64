import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { OrchestratorError } from "../../core/errors.ts";
import type { EmbeddingsClient } from "../../models/embeddings-client.ts";
import { modelIdSchema } from "../../models/model-id.ts";
import { abortOnDisconnect } from "../abort-on-disconnect.ts";
import { parseInput } from "../validation.ts";
import { roundUsd } from "../views.ts";

// https://platform.openai.com/docs/api-reference/embeddings/create (text inputs; token arrays are refused).
const text = z.string().min(1, "must not be empty");
// Strict: a misspelt or unknown field is refused by name.
export const embeddingsBodySchema = z.strictObject({
  model: modelIdSchema("is required: embedding_ai (or another embedding role) or a model id"),
  input: z.union(
    [text, z.array(text).min(1, "must hold at least one text").max(2048, "at most 2048 texts")],
    {
      error: "must be a string or an array of strings (token arrays are not supported)",
    },
  ),
  encoding_format: z.enum(["float", "base64"]).optional(),
  dimensions: z.number().int().positive().max(65536).optional(),
  user: z.string().optional(),
});

export const embeddingsSchema = z.object({
  object: z.literal("list"),
  data: z.array(
    z.object({
      object: z.literal("embedding"),
      index: z.number().int(),
      embedding: z.union([
        z.array(z.number()).readonly(),
        z.string().describe("float32 little-endian, base64"),
      ]),
    }),
  ),
  model: z.string(),
  usage: z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }),
  orchestrator: z.object({ role: z.string(), cost_usd: z.number() }),
});

// POST /v1/embeddings: OpenAI's embeddings endpoint, answered through an embedding role (or a model id),
// with the call priced and recorded in the cost ledger like every other.
export function registerEmbeddingsRoutes(app: FastifyInstance, embeddings: EmbeddingsClient): void {
  app.post("/v1/embeddings", async (request, reply): Promise<z.output<typeof embeddingsSchema>> => {
    const body = parseInput(embeddingsBodySchema, request.body);
    const target = embeddings.resolve(body.model);
    if (!target) {
      throw new OrchestratorError({
        kind: "logical",
        code: "model_not_found",
        status: 404,
        field: "model",
        message: `The model '${body.model}' is not an embedding model here: use embedding_ai (or another embedding role) or an upstream model id such as openai/text-embedding-3-small`,
      });
    }
    const input = typeof body.input === "string" ? [body.input] : body.input;
    const made = await embeddings.embed(target, {
      input,
      signal: abortOnDisconnect(reply),
      ...(body.dimensions === undefined ? {} : { dimensions: body.dimensions }),
      ...(body.user === undefined ? {} : { user: body.user }),
    });
    reply.header("x-orchestrator-role", made.role).header("x-orchestrator-model", made.model);
    return {
      object: "list",
      data: made.vectors.map((vector, index) => ({
        object: "embedding",
        index,
        embedding: body.encoding_format === "base64" ? toBase64(vector) : vector,
      })),
      model: made.model,
      usage: { prompt_tokens: made.promptTokens, total_tokens: made.promptTokens },
      orchestrator: { role: made.role, cost_usd: roundUsd(made.costUsd) },
    };
  });
}

// OpenAI's base64 encoding: the vector's float32 values, little-endian.
function toBase64(vector: readonly number[]): string {
  const buffer = Buffer.alloc(vector.length * 4);
  vector.forEach((value, i) => {
    buffer.writeFloatLE(value, i * 4);
  });
  return buffer.toString("base64");
}
