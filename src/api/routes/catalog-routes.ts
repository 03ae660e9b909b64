import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { AppConfig } from "../../config/index.ts";
import type { ModelCatalog } from "../../models/model-catalog.ts";

export const catalogSchema = z
  .object({
    source: z.string(),
    fetched_at: z.string().optional(),
    note: z.string().optional(),
    retiring_models: z.array(
      z.object({
        model: z.string(),
        roles: z.array(z.string()),
        status: z.string(),
        expiration_date: z.string().optional(),
      }),
    ),
  })
  .describe("Where prices come from, and configured models the upstream no longer lists or is retiring");

export const modelsSchema = z.object({
  models: z.array(
    z.object({
      role: z.string(),
      provider: z.string(),
      kind: z.enum(["chat", "image", "video", "embedding"]),
      model: z.string(),
      description: z.string(),
      context_window: z.number().int().optional(),
      max_output_tokens: z.number().int().optional(),
      pricing: z.object({
        input_per_million_usd: z.number(),
        output_per_million_usd: z.number(),
        per_image_usd: z.number().optional(),
        per_video_second_usd: z.number().optional(),
      }),
      fallbacks: z.array(z.string()),
    }),
  ),
  aliases: z.record(z.string(), z.string()),
  catalog: catalogSchema,
});

export const addonsQuerySchema = z.object({ category: z.string().optional() });

export const addonsSchema = z.object({
  count: z.number().int(),
  categories: z.array(z.string()),
  addons: z.array(z.looseObject({ name: z.string(), category: z.string() })),
});

// What the service can call (/models) and the prompt addons a task can enable (/addons).
export function registerCatalogRoutes(
  app: FastifyInstance,
  catalog: ModelCatalog,
  addons: AppConfig["addons"],
): void {
  // Built per request: prices and context windows follow the upstream's model list as it is refreshed.
  const modelsBody = (): z.output<typeof modelsSchema> => ({
    models: catalog.roles().map(([role, d]) => ({
      role,
      provider: d.provider,
      kind: d.kind,
      model: d.model,
      description: d.description,
      ...(d.kind === "chat" ? { context_window: d.contextWindow, max_output_tokens: d.maxOutputTokens } : {}),
      pricing: {
        input_per_million_usd: d.pricing.inputPerMillion,
        output_per_million_usd: d.pricing.outputPerMillion,
        ...(d.pricing.perImage === undefined ? {} : { per_image_usd: d.pricing.perImage }),
        ...(d.pricing.perVideoSecond === undefined ? {} : { per_video_second_usd: d.pricing.perVideoSecond }),
      },
      fallbacks: d.fallbacks,
    })),
    aliases: Object.fromEntries(catalog.aliases()),
    catalog: catalogView(catalog),
  });
  app.get("/models", async () => modelsBody());

  const addonList = Object.entries(addons).map(([name, addon]) => ({ name, ...addon }));
  const categories = [...new Set(addonList.map((a) => a.category))].sort();
  app.get<{ Querystring: { category?: string } }>("/addons", async (request) => {
    const wanted = request.query.category;
    const list = wanted ? addonList.filter((a) => a.category === wanted) : addonList;
    return { count: list.length, categories, addons: list };
  });
}

// Where prices come from, and every configured model the upstream no longer lists or is retiring.
export function catalogView(catalog: ModelCatalog): z.output<typeof catalogSchema> {
  const status = catalog.catalogStatus();
  return {
    source: status.source,
    ...(status.fetchedAt ? { fetched_at: status.fetchedAt } : {}),
    ...(status.reason ? { note: status.reason } : {}),
    retiring_models: catalog.modelNotices().map((notice) => ({
      model: notice.model,
      roles: [...notice.roles],
      status: notice.status,
      ...(notice.expirationDate ? { expiration_date: notice.expirationDate } : {}),
    })),
  };
}
