import { createApp } from "./app.ts";
import { loadConfigOrExit, stopOnSignals } from "./process-lifecycle.ts";

// The API server (npm start).
const config = loadConfigOrExit();
const app = await createApp({ config });
const { logger } = app;
if (app.models.mode === "offline") {
  logger.warn(
    "OFFLINE MODE: no OPENROUTER_API_KEY is set; every answer comes from the built-in simulated provider and says so",
  );
} else {
  logger.info(
    { baseUrl: config.providers.openrouter.baseUrl },
    "live mode: models are called through OpenRouter",
  );
}
await app.server.listen({ host: config.system.host, port: config.system.port });
stopOnSignals(app, config.orchestration.shutdownGraceSeconds * 1000, "server");
