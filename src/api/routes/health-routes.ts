import type { FastifyInstance } from "fastify";
import type { AppConfig } from "../../config/index.ts";
import type { Clock } from "../../core/clock.ts";
import type { ModelClient } from "../../models/model-client.ts";
import { catalogView } from "./catalog-routes.ts";
import { circuitView } from "./stats-routes.ts";

export function registerHealthRoutes(
  app: FastifyInstance,
  deps: { config: AppConfig; models: ModelClient; clock: Clock; startedAt: number; version: string },
): void {
  app.get("/health", async () => {
    const offline = deps.models.mode === "offline";
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
      provider: offline ? "simulated" : "openrouter",
      ...(offline
        ? {
            notice:
              "offline mode: no OPENROUTER_API_KEY is set, so answers come from the built-in simulated provider",
          }
        : {}),
      uptime_seconds: Math.round((deps.clock.now() - deps.startedAt) / 1000),
      circuits: { not_closed: open },
      models: catalogView(deps.models.catalog),
    };
  });
}
