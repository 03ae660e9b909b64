import { createApp } from "./app.ts";
import { loadConfig } from "./config/index.ts";
import { OrchestratorError } from "./core/errors.ts";

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    process.stderr.write(`${OrchestratorError.isInstance(error) ? error.message : String(error)}\n`);
    process.exit(1);
  }
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
  if (app.interruptedRuns > 0) {
    logger.warn(
      { count: app.interruptedRuns },
      "runs cut off by the previous shutdown are marked interrupted",
    );
  }
  await app.server.listen({ host: config.system.host, port: config.system.port });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: no new requests, finishing running work");
    app.close(config.orchestration.shutdownGraceSeconds * 1000).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

await main();
