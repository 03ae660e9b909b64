import type { App } from "./app.ts";
import { type AppConfig, loadConfig } from "./config/index.ts";
import { OrchestratorError } from "./core/errors.ts";

// What the server and the worker processes share: reading the config (a bad one stops the process with a
// message naming the field) and a graceful stop on SIGTERM or SIGINT.

export function loadConfigOrExit(): AppConfig {
  try {
    return loadConfig();
  } catch (error) {
    process.stderr.write(`${OrchestratorError.isInstance(error) ? error.message : String(error)}\n`);
    process.exit(1);
  }
}

export function stopOnSignals(app: App, graceMs: number, what: string): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, `${what} shutting down: no new work, finishing what is running`);
    app.close(graceMs).then(
      () => process.exit(0),
      (error: unknown) => {
        app.logger.error({ err: error }, `${what} shutdown failed`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}
