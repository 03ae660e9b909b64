import type { Logger } from "pino";

// Collects rows and writes them in batches, off the request path: a call's answer never waits for its
// ledger row. `flush()` resolves once everything queued so far is written (stats, budgets, shutdown).
export class WriteQueue<Row> {
  readonly #write: (rows: readonly Row[]) => Promise<void>;
  readonly #logger: Logger | undefined;
  readonly #what: string;
  #pending: Row[] = [];
  #writing: Promise<void> | undefined;

  constructor(what: string, write: (rows: readonly Row[]) => Promise<void>, logger?: Logger) {
    this.#what = what;
    this.#write = write;
    this.#logger = logger;
  }

  push(row: Row): void {
    this.#pending.push(row);
    this.#writing ??= this.#drain();
  }

  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  async #drain(): Promise<void> {
    // Let the current tick's rows join the batch.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.#pending.length > 0) {
      const rows = this.#pending;
      this.#pending = [];
      try {
        await this.#write(rows);
      } catch (error) {
        // A lost stats row must not fail a user's request; say so loudly instead.
        this.#logger?.error({ err: error, rows: rows.length }, `could not write ${this.#what}`);
      }
    }
    this.#writing = undefined;
  }
}
