import type { Logger } from "pino";
import type { Clock } from "../core/clock.ts";
import type { Store } from "../store/store.ts";

const dayMs = 24 * 60 * 60 * 1000;
// Sessions deleted per transaction: each batch is short, so turns of live sessions never wait long on it.
const sweepBatch = 500;

export interface SessionSweepSettings {
  // Sessions idle this long are deleted; 0 keeps them forever (the sweep never runs).
  readonly ttlDays: number;
  readonly intervalMinutes: number;
}

// Deletes sessions idle past their time to live, with their messages and summaries, at start-up and then on
// an unref'd timer. Every instance of a cluster may run it: a delete of what has already gone deletes nothing.
export class SessionSweep {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #settings: SessionSweepSettings;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<number> | undefined;

  constructor(deps: { store: Store; clock: Clock; logger: Logger; settings: SessionSweepSettings }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#settings = deps.settings;
  }

  start(): void {
    if (this.#settings.ttlDays === 0) return;
    const run = () => {
      this.sweep().catch((error: unknown) =>
        this.#logger.warn({ err: error }, "could not delete expired sessions"),
      );
    };
    run();
    this.#timer = setInterval(run, this.#settings.intervalMinutes * 60_000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#sweeping?.catch(() => undefined);
  }

  // How many sessions were deleted.
  sweep(): Promise<number> {
    this.#sweeping ??= this.#sweep().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  async #sweep(): Promise<number> {
    if (this.#settings.ttlDays === 0) return 0;
    const idleBefore = new Date(this.#clock.now() - this.#settings.ttlDays * dayMs).toISOString();
    let deleted = 0;
    for (;;) {
      const batch = await this.#store.deleteIdleSessions(idleBefore, sweepBatch);
      deleted += batch;
      if (batch < sweepBatch) break;
    }
    if (deleted > 0) this.#logger.info({ deleted }, "deleted sessions idle past sessions.ttlDays");
    return deleted;
  }
}
