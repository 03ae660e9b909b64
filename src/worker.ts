import { createApp } from "./app.ts";
import { loadConfigOrExit, stopOnSignals } from "./process-lifecycle.ts";

// A queue worker: the same service without the HTTP API, taking workflow steps and tasks from the queue in
// Redis (REDIS_URL) and storing their results in the shared database (DATABASE_URL). Run as many as needed.
const config = loadConfigOrExit();
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
stopOnSignals(app, config.orchestration.shutdownGraceSeconds * 1000, "worker");
