import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { AppConfig } from "../../config/index.ts";
import { activeProfile, profileNames, profileProvider } from "../../config/profiles.ts";
import type { Clock } from "../../core/clock.ts";
import type { ModelClient } from "../../models/model-client.ts";
import { catalogSchema, catalogView } from "./catalog-routes.ts";
import { circuitSchema, circuitView } from "./stats-routes.ts";

export const healthSchema = z.object({
  status: z.enum(["ok", "degraded"]),
  name: z.string(),
  version: z.string(),
  environment: z.string(),
  mode: z.enum(["live", "offline"]),
  // Which upstream the built-in roles go to: OpenRouter, a single-key profile's provider, or offline.
  profile: z.enum(profileNames),
  // That profile's provider name, or simulated offline.
  provider: z.string(),
  notice: z.string().optional(),
  uptime_seconds: z.number().int(),
  circuits: z.object({ not_closed: z.array(circuitSchema) }),
  models: catalogSchema,
});

export function registerHealthRoutes(
  app: FastifyInstance,
  deps: { config: AppConfig; models: ModelClient; clock: Clock; startedAt: number; version: string },
): void {
  app.get("/health", async (): Promise<z.output<typeof healthSchema>> => {
    const offline = deps.models.mode === "offline";
    const profile = activeProfile(deps.config);
    // The process is up either way (200); "degraded" says some upstream models are being avoided.
    const open = deps.models.resilience.breakers
      .snapshots()
      .filter((c) => c.state !== "closed")
      .map(circuitView);
    return {
      status: open.length > 0 ? "degraded" : "ok",
      name: deps.config.system.name,
      version: deps.version,
      environment: deps.config.system.environment,
      mode: deps.models.mode,
      profile,
      provider: offline ? "simulated" : profileProvider[profile],
      ...(offline
        ? {
            notice:
              "offline mode: no OPENROUTER_API_KEY, OPENAI_API_KEY, ANTHROPIC_API_KEY or GEMINI_API_KEY is set, so answers come from the built-in simulated provider",
          }
        : {}),
      uptime_seconds: Math.round((deps.clock.now() - deps.startedAt) / 1000),
      circuits: { not_closed: open },
      models: catalogView(deps.models.catalog),
    };
  });
}
