import { GroupCommit } from "./group-commit.ts";
import type { Store, TaskRecord } from "./store.ts";
import type { LedgerEntry } from "./usage-store.ts";

// Where task records are written: the store itself, or writes grouped in front of it.
export type TaskRecordWrites = Pick<Store, "saveTasks">;

interface TaskWrite {
  readonly tasks: readonly TaskRecord[];
  readonly calls: readonly LedgerEntry[];
}

// Group commit for task records (see group-commit.ts): one `Store.saveTasks` transaction, which fences each
// task by its run's attempt and keeps a task's ledger rows with its record, for the records of every task
// that ended in the same turn of the event loop. A run's writes keep their order: a next task's start
// queued behind its predecessor's failed result fails with it.
export class GroupedTaskWrites implements TaskRecordWrites {
  readonly #writes: GroupCommit<TaskWrite, boolean[]>;

  constructor(store: TaskRecordWrites, defer?: (flush: () => void) => void) {
    this.#writes = new GroupCommit<TaskWrite, boolean[]>(
      {
        group: async (writes) => {
          const saved = await store.saveTasks(
            writes.flatMap((write) => write.tasks),
            writes.flatMap((write) => write.calls),
          );
          let at = 0;
          return writes.map((write) => {
            at += write.tasks.length;
            return saved.slice(at - write.tasks.length, at);
          });
        },
        keys: (write) => write.tasks.map((task) => task.runId),
      },
      defer,
    );
  }

  saveTasks(tasks: readonly TaskRecord[], calls: readonly LedgerEntry[] = []): Promise<boolean[]> {
    return this.#writes.write({ tasks, calls });
  }
}
