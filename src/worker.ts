import { createApp } from "./app.ts";
import { loadConfig } from "./config/index.ts";
import { OrchestratorError } from "./core/errors.ts";

// A queue worker: the same service without the HTTP API, taking workflow steps and tasks from the queue in
// Redis (REDIS_URL) and storing their results in the shared database (DATABASE_URL). Run as many as needed.
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    process.stderr.write(`${OrchestratorError.isInstance(error) ? error.message : String(error)}\n`);
    process.exit(1);
  }
  if (!config.system.redisUrl) {
    process.stderr.write("a worker needs REDIS_URL: the workflow queue lives in Redis\n");
    process.exit(1);
  }
  const app = await createApp({ config });
  app.startWorker();
  app.logger.info(
    { concurrency: config.cluster.workerConcurrency, mode: app.models.mode },
    "worker started: taking workflow tasks from the queue",
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, "worker shutting down: finishing the jobs it holds");
    app.close(config.orchestration.shutdownGraceSeconds * 1000).then(
      () => process.exit(0),
      (error: unknown) => {
        app.logger.error({ err: error }, "worker shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

await main();
