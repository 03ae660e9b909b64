import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ModelRoleDefinition } from "../../config/index.ts";
import { OrchestratorError } from "../../core/errors.ts";
import type { ModelCatalog } from "../../models/model-catalog.ts";
import { parseInput } from "../validation.ts";

export interface ModelListOptions {
  readonly catalog: ModelCatalog;
  // Roles the service uses for itself (categorizer, finisher, failure explainer): not for clients.
  readonly internalRoles: readonly string[];
  // What model auto accepts at most: the pre-routing ceiling.
  readonly autoContextTokens: number;
}

export const modelEntrySchema = z.object({
  id: z.string(),
  object: z.literal("model"),
  created: z.number().int(),
  owned_by: z.string(),
  description: z.string(),
  context_length: z.number().int().nullable(),
  pricing: z
    .record(z.string(), z.string())
    .describe("USD per token (per image for image), as decimal strings"),
});

export const modelListSchema = z.object({ object: z.literal("list"), data: z.array(modelEntrySchema) });

// A fixed date, so `created` is the same on every call and every replica, as clients caching the list
// expect. No entry here has a real creation date of its own.
const created = 1_735_689_600;

// GET /v1/models and /v1/models/{id}: what a client may name as `model`, in OpenAI's list shape with
// OpenRouter's context_length and per-token pricing (USD, as decimal strings) added.
export function registerModelListRoutes(app: FastifyInstance, options: ModelListOptions): void {
  const entries = modelEntries(options);
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  app.get("/v1/models", async () => ({ object: "list", data: entries }));
  app.get("/v1/models/*", async (request) => {
    const { "*": id } = parseInput(z.object({ "*": z.string().min(1).max(256) }), request.params, "path");
    const entry = byId.get(id);
    if (entry) return entry;
    throw new OrchestratorError({
      kind: "logical",
      code: "model_not_found",
      status: 404,
      field: "model",
      message: `The model '${id}' does not exist here; GET /v1/models lists them`,
    });
  });
}

type Entry = ReturnType<typeof entry>;

function modelEntries({ catalog, internalRoles, autoContextTokens }: ModelListOptions): Entry[] {
  const hidden = new Set(internalRoles);
  const listed = (kind: ModelRoleDefinition["kind"]) =>
    catalog.roles().filter(([name, d]) => d.kind === kind && !hidden.has(name));
  const chat = listed("chat");
  const usable = [...chat, ...listed("embedding"), ...listed("image")];
  const usableNames = new Set(usable.map(([name]) => name));
  const aliases = catalog.aliases().filter(([alias, role]) => !hidden.has(alias) && usableNames.has(role));
  const upstream = new Map<string, ModelRoleDefinition>();
  for (const [, d] of [...chat, ...listed("embedding")]) {
    for (const id of [d.model, ...d.fallbacks]) if (!upstream.has(id)) upstream.set(id, d);
  }
  return [
    entry("auto", "orchestrator", {
      description: "Routed by complexity: a categorizer picks the model for each request",
      contextLength: autoContextTokens,
      // As OpenRouter's own router: the price depends on the model each request is routed to.
      pricing: { prompt: "-1", completion: "-1" },
    }),
    ...usable.map(([name, d]) => entry(name, "orchestrator", describe(d))),
    ...aliases.flatMap(([alias, role]) => {
      const d = catalog.resolve(role)?.definition;
      return d ? [entry(alias, "orchestrator", describe(d))] : [];
    }),
    ...[...upstream].map(([id, d]) => {
      const pricing = catalog.pricingOf(id) ?? d.pricing;
      return entry(id, id.split("/")[0] ?? "openrouter", describe({ ...d, pricing, description: "" }));
    }),
  ];
}

function describe(d: ModelRoleDefinition) {
  return {
    description: d.description,
    contextLength: d.kind === "chat" || d.kind === "embedding" ? d.contextWindow : null,
    pricing: {
      prompt: perToken(d.pricing.inputPerMillion),
      completion: perToken(d.pricing.outputPerMillion),
      ...(d.pricing.perImage === undefined ? {} : { image: String(d.pricing.perImage) }),
    },
  };
}

function entry(
  id: string,
  ownedBy: string,
  about: { description: string; contextLength: number | null; pricing: Record<string, string> },
) {
  return {
    id,
    object: "model" as const,
    created,
    owned_by: ownedBy,
    description: about.description,
    context_length: about.contextLength,
    pricing: about.pricing,
  };
}

// USD per million tokens as OpenRouter writes prices: USD per token, a plain decimal string.
function perToken(perMillion: number): string {
  if (perMillion === 0) return "0";
  return (perMillion / 1_000_000).toFixed(12).replace(/0+$/, "").replace(/\.$/, "");
}
