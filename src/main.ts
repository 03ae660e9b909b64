import { createApp } from "./app.ts";
import { activeProfile, profileProvider } from "./config/profiles.ts";
import { loadConfigOrExit, stopOnSignals } from "./process-lifecycle.ts";

// The API server (npm start).
const config = loadConfigOrExit();
const app = await createApp({ config });
const { logger } = app;
const profile = activeProfile(config);
if (profile === "offline") {
  logger.warn(
    "OFFLINE MODE: no OPENROUTER_API_KEY, OPENAI_API_KEY, ANTHROPIC_API_KEY or GEMINI_API_KEY is set; every answer comes from the built-in simulated provider and says so",
  );
} else {
  const provider = profileProvider[profile];
  const { baseUrl } = config.providers[provider] as { baseUrl: string };
  logger.info({ profile, provider, baseUrl }, `live mode: the ${profile} profile is in force`);
}
await app.server.listen({ host: config.system.host, port: config.system.port });
stopOnSignals(app, config.orchestration.shutdownGraceSeconds * 1000, "server");
