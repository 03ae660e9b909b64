import type { Logger } from "pino";

export interface WriteQueueOptions {
  // A batch is written this long after its first row arrives (ms)...
  readonly flushIntervalMs?: number;
  // ...or as soon as it holds this many rows.
  readonly maxBatchRows?: number;
  // The timer; tests pass their own to fire it by hand.
  readonly schedule?: (run: () => void, ms: number) => () => void;
  readonly logger?: Logger | undefined;
}

const realTimer = (run: () => void, ms: number) => {
  const timer = setTimeout(run, ms);
  // A pending batch never holds the process open: a graceful stop flushes it.
  timer.unref();
  return () => clearTimeout(timer);
};

// Collects rows and writes them in batches, off the request path: a call's answer never waits for its
// ledger row, and one statement writes many rows. A batch is written on a timer or when it is full;
// `flush()` writes what is queued at once and resolves when everything so far is written (stats, budgets,
// graceful stop: nothing accepted is lost).
export class WriteQueue<Row> {
  readonly #write: (rows: readonly Row[]) => Promise<void>;
  readonly #what: string;
  readonly #intervalMs: number;
  readonly #maxRows: number;
  readonly #schedule: (run: () => void, ms: number) => () => void;
  readonly #logger: Logger | undefined;
  #pending: Row[] = [];
  // The rows of the batch being written.
  #inFlight: readonly Row[] = [];
  #cancelTimer: (() => void) | undefined;
  #writing: Promise<void> | undefined;

  constructor(what: string, write: (rows: readonly Row[]) => Promise<void>, options: WriteQueueOptions = {}) {
    this.#what = what;
    this.#write = write;
    this.#intervalMs = options.flushIntervalMs ?? 200;
    this.#maxRows = options.maxBatchRows ?? 500;
    this.#schedule = options.schedule ?? realTimer;
    this.#logger = options.logger;
  }

  get pending(): number {
    return this.#pending.length;
  }

  push(row: Row): void {
    this.#pending.push(row);
    if (this.#pending.length >= this.#maxRows) this.#startWriting();
    else this.#cancelTimer ??= this.#schedule(() => this.#startWriting(), this.#intervalMs);
  }

  async flush(): Promise<void> {
    while (this.#writing || this.#pending.length > 0) {
      this.#startWriting();
      await this.#writing;
    }
  }

  // Takes the queued rows `mine` selects out of the queue, for the caller to write together with something
  // of its own; resolves once none of them is still in a batch being written (that one is then written).
  async take(mine: (row: Row) => boolean): Promise<Row[]> {
    while (this.#writing && this.#inFlight.some(mine)) await this.#writing;
    const taken: Row[] = [];
    const kept: Row[] = [];
    for (const row of this.#pending) (mine(row) ? taken : kept).push(row);
    if (taken.length > 0) this.#pending = kept;
    return taken;
  }

  // Rows taken and then not written after all go back into the queue.
  giveBack(rows: readonly Row[]): void {
    for (const row of rows) this.push(row);
  }

  #startWriting(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    if (this.#pending.length > 0) this.#writing ??= this.#writeBatch();
  }

  // Rows that arrive while a batch is written start the next batch (and its timer) as usual.
  async #writeBatch(): Promise<void> {
    const rows = this.#pending;
    this.#pending = [];
    this.#inFlight = rows;
    try {
      await this.#write(rows);
    } catch (error) {
      // A lost stats row must not fail a user's request; say so loudly instead.
      this.#logger?.error({ err: error, rows: rows.length }, `could not write ${this.#what}`);
    } finally {
      this.#inFlight = [];
      this.#writing = undefined;
    }
    if (this.#pending.length >= this.#maxRows) this.#startWriting();
  }
}
