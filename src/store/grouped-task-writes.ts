import type { Store, TaskRecord } from "./store.ts";
import type { LedgerEntry } from "./usage-store.ts";

// Where task records are written: the store itself, or writes grouped in front of it.
export type TaskRecordWrites = Pick<Store, "saveTasks">;

interface Pending {
  readonly tasks: readonly TaskRecord[];
  readonly calls: readonly LedgerEntry[];
  readonly resolve: (saved: boolean[]) => void;
  readonly reject: (error: unknown) => void;
}

// Group commit for task records. Every commit costs the same whatever it holds (the database appends and
// syncs its log), and tasks often end together: a stage's parallel tasks, many runs at once. Writes asked
// for in the same turn of the event loop, and those asked for while a group is being written, commit
// together in one transaction (`Store.saveTasks`, which fences each task by its run's attempt and keeps a
// task's ledger rows with its record). A write waits for no timer, only for the end of the turn it was
// asked in: a caller hears that its records are stored once their transaction has committed, never before,
// so a result is durable before anything that depends on it starts. If a group's transaction fails, each
// write in it is tried on its own, so one bad record fails only its own write (and those of its run queued
// behind it).
export class GroupedTaskWrites implements TaskRecordWrites {
  readonly #store: TaskRecordWrites;
  readonly #defer: (flush: () => void) => void;
  #queue: Pending[] = [];
  #scheduled = false;
  #writing = false;

  // `defer` runs the flush once the current turn's I/O callbacks are done; tests pass their own.
  constructor(store: TaskRecordWrites, defer: (flush: () => void) => void = (flush) => setImmediate(flush)) {
    this.#store = store;
    this.#defer = defer;
  }

  saveTasks(tasks: readonly TaskRecord[], calls: readonly LedgerEntry[] = []): Promise<boolean[]> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ tasks, calls, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    // A group being written takes what queued meanwhile as soon as it has committed.
    if (this.#scheduled || this.#writing) return;
    this.#scheduled = true;
    this.#defer(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        const group = this.#queue;
        this.#queue = [];
        await this.#write(group);
      }
    } finally {
      this.#writing = false;
    }
  }

  async #write(group: readonly Pending[]): Promise<void> {
    if (group.length === 1) {
      const [only] = group as [Pending];
      await this.#store.saveTasks(only.tasks, only.calls).then(only.resolve, only.reject);
      return;
    }
    let saved: boolean[];
    try {
      saved = await this.#store.saveTasks(
        group.flatMap((write) => write.tasks),
        group.flatMap((write) => write.calls),
      );
    } catch {
      await this.#writeEach(group);
      return;
    }
    let at = 0;
    for (const write of group) {
      write.resolve(saved.slice(at, at + write.tasks.length));
      at += write.tasks.length;
    }
  }

  // After a failed group, one write at a time. A run's writes keep their order: one queued behind a write
  // of the same run that failed (a next task's start behind its predecessor's result) fails with it.
  async #writeEach(group: readonly Pending[]): Promise<void> {
    const failed = new Map<string, unknown>();
    for (const write of group) {
      const runs = new Set(write.tasks.map((task) => task.runId));
      const earlier = [...runs].find((run) => failed.has(run));
      if (earlier !== undefined) {
        write.reject(failed.get(earlier));
        continue;
      }
      try {
        write.resolve(await this.#store.saveTasks(write.tasks, write.calls));
      } catch (error) {
        for (const run of runs) failed.set(run, error);
        write.reject(error);
      }
    }
  }
}
