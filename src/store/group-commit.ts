// How a kind of write commits in groups: `group` writes the items in one transaction and returns each one's
// result in order (or throws, and then nothing of the group was written); `keys` names what an item must
// keep its order under (its run, its session).
export interface GroupWriter<Item, Result> {
  group(items: readonly Item[]): Promise<readonly Result[]>;
  keys(item: Item): Iterable<string>;
}

interface Pending<Item, Result> {
  readonly item: Item;
  readonly resolve: (result: Result) => void;
  readonly reject: (error: unknown) => void;
}

// Group commit. Every commit costs about the same whatever it holds (the database appends and syncs its
// log), and writes often come together: a stage's parallel tasks, the answers of concurrent requests that
// arrive in the same turn of the event loop. Writes asked for in the same turn, and those asked for while a
// group is being written, commit together in one transaction. A write waits for no timer, only for the end
// of the turn it was asked in (so every answer that arrived in that turn is read first), and its caller
// hears that it is stored once its transaction has committed, never before: what depends on it (a
// response, a next task) still starts only after it is durable. If a group's transaction fails, each write
// in it is tried on its own, so one bad write fails only itself (and the writes of the same key queued
// behind it, which must not overtake it).
export class GroupCommit<Item, Result> {
  readonly #writer: GroupWriter<Item, Result>;
  readonly #defer: (flush: () => void) => void;
  #queue: Pending<Item, Result>[] = [];
  #scheduled = false;
  #writing = false;

  // `defer` runs the flush once the current turn's I/O callbacks are done; tests pass their own.
  constructor(
    writer: GroupWriter<Item, Result>,
    defer: (flush: () => void) => void = (flush) => setImmediate(flush),
  ) {
    this.#writer = writer;
    this.#defer = defer;
  }

  write(item: Item): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
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

  async #write(group: readonly Pending<Item, Result>[]): Promise<void> {
    let results: readonly Result[];
    try {
      results = await this.#writer.group(group.map((write) => write.item));
    } catch (error) {
      if (group.length === 1) group[0]?.reject(error);
      else await this.#writeEach(group);
      return;
    }
    for (const [at, write] of group.entries()) write.resolve(results[at] as Result);
  }

  // After a failed group, one write at a time, in order; a write queued behind a failed one with a key in
  // common fails with it.
  async #writeEach(group: readonly Pending<Item, Result>[]): Promise<void> {
    const failed = new Map<string, unknown>();
    for (const write of group) {
      const keys = new Set(this.#writer.keys(write.item));
      const earlier = [...keys].find((key) => failed.has(key));
      if (earlier !== undefined) {
        write.reject(failed.get(earlier));
        continue;
      }
      try {
        const [result] = await this.#writer.group([write.item]);
        write.resolve(result as Result);
      } catch (error) {
        for (const key of keys) failed.set(key, error);
        write.reject(error);
      }
    }
  }
}
