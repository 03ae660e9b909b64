import type { Release } from "./priority-scheduler.ts";

// A model's priority slot granted before the call that uses it exists (a queued workflow task is started only
// once granted one). The first try of that call takes it instead of queueing again; whoever holds it gives it
// back when done, which does nothing once a try has taken it (the try gives it back when it ends).
export class HeldSlot {
  readonly key: string;
  #release: Release | undefined;

  constructor(key: string, release: Release) {
    this.key = key;
    this.#release = release;
  }

  // The slot, for a try at the model it was granted for; undefined once taken or given back.
  take(key: string): Release | undefined {
    if (key !== this.key) return undefined;
    const release = this.#release;
    this.#release = undefined;
    return release;
  }

  giveBack(): void {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }
}
