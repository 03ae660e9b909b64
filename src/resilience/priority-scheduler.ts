export const priorities = ["high", "medium", "low"] as const;
export type Priority = (typeof priorities)[number];

export interface PriorityRatios {
  readonly high: number;
  readonly medium: number;
  readonly low: number;
}

export type Release = () => void;

// Whatever waits for a slot: a call awaiting `acquire`, or a plain record (a queued workflow task) that is
// started only when `granted` is called with its slot. A waiter is granted at most once.
export interface SlotWaiter {
  granted(release: Release): void;
}

// Bounds the number of upstream calls in flight. When every slot is taken, waiting calls are served by
// priority class in the configured proportions (stride scheduling): with all classes waiting, high gets
// 60% of freed slots, medium 30%, low 10%, and no class with a non-zero ratio waits forever.
export class PriorityScheduler {
  readonly #capacity: number;
  readonly #strides: Record<Priority, number>;
  readonly #pass: Record<Priority, number> = { high: 0, medium: 0, low: 0 };
  // In arrival order; a set, so a waiter that gives up leaves in constant time.
  readonly #queues: Record<Priority, Set<SlotWaiter>> = {
    high: new Set(),
    medium: new Set(),
    low: new Set(),
  };
  readonly #onIdle: () => void;
  #running = 0;
  #virtualTime = 0;

  // `onIdle` is told whenever the last slot is given back (or the last waiter withdrawn) and nothing waits.
  constructor(capacity: number, ratios: PriorityRatios, onIdle: () => void = () => undefined) {
    this.#capacity = capacity;
    this.#onIdle = onIdle;
    // A zero ratio still gets a tiny share, so that class is never starved outright.
    const stride = (ratio: number) => 1 / Math.max(ratio, 0.001);
    this.#strides = { high: stride(ratios.high), medium: stride(ratios.medium), low: stride(ratios.low) };
  }

  acquire(priority: Priority, signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const now = this.#grantNow();
    if (now) return Promise.resolve(now);
    return new Promise<Release>((resolve, reject) => {
      const waiter: SlotWaiter = {
        granted: (release) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(release);
        },
      };
      const onAbort = () => {
        this.withdraw(priority, waiter);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#queue(priority, waiter);
    });
  }

  // Grants `waiter` a slot now (synchronously) if one is free and nobody waits, else queues it: it holds
  // nothing while it waits, and `granted` is called when its turn comes.
  enqueue(priority: Priority, waiter: SlotWaiter): void {
    const now = this.#grantNow();
    if (now) waiter.granted(now);
    else this.#queue(priority, waiter);
  }

  // Takes a waiter out of the queue; false when it is not waiting (granted already, or never queued).
  withdraw(priority: Priority, waiter: SlotWaiter): boolean {
    const withdrawn = this.#queues[priority].delete(waiter);
    if (withdrawn) this.#tellIfIdle();
    return withdrawn;
  }

  stats(): { running: number; capacity: number; waiting: Record<Priority, number> } {
    return {
      running: this.#running,
      capacity: this.#capacity,
      waiting: {
        high: this.#queues.high.size,
        medium: this.#queues.medium.size,
        low: this.#queues.low.size,
      },
    };
  }

  // A slot at once, when one is free and nobody is waiting for it; otherwise undefined.
  #grantNow(): Release | undefined {
    if (this.#running >= this.#capacity || this.#waiting() > 0) return undefined;
    this.#running++;
    return this.#releaser();
  }

  #queue(priority: Priority, waiter: SlotWaiter): void {
    // A class that was idle must not bank credit and then burst: it rejoins at the current virtual time.
    if (this.#queues[priority].size === 0) {
      this.#pass[priority] = Math.max(this.#pass[priority], this.#virtualTime);
    }
    this.#queues[priority].add(waiter);
  }

  #waiting(): number {
    return this.#queues.high.size + this.#queues.medium.size + this.#queues.low.size;
  }

  #releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
      this.#dispatch();
      this.#tellIfIdle();
    };
  }

  #tellIfIdle(): void {
    if (this.#running === 0 && this.#waiting() === 0) this.#onIdle();
  }

  #dispatch(): void {
    while (this.#running < this.#capacity) {
      const next = this.#nextClass();
      if (!next) return;
      const queue = this.#queues[next];
      const waiter = queue.values().next().value;
      if (!waiter) return;
      queue.delete(waiter);
      this.#virtualTime = this.#pass[next];
      this.#pass[next] += this.#strides[next];
      this.#running++;
      waiter.granted(this.#releaser());
    }
  }

  #nextClass(): Priority | undefined {
    let best: Priority | undefined;
    for (const priority of priorities) {
      if (this.#queues[priority].size === 0) continue;
      if (best === undefined || this.#pass[priority] < this.#pass[best]) best = priority;
    }
    return best;
  }
}
