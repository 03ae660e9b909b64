export const priorities = ["high", "medium", "low"] as const;
export type Priority = (typeof priorities)[number];

export interface PriorityRatios {
  readonly high: number;
  readonly medium: number;
  readonly low: number;
}

export type Release = () => void;

interface Waiter {
  readonly grant: (release: Release) => void;
}

// Bounds the number of upstream calls in flight. When every slot is taken, waiting calls are served by
// priority class in the configured proportions (stride scheduling): with all classes waiting, high gets
// 60% of freed slots, medium 30%, low 10%, and no class with a non-zero ratio waits forever.
export class PriorityScheduler {
  readonly #capacity: number;
  readonly #strides: Record<Priority, number>;
  readonly #pass: Record<Priority, number> = { high: 0, medium: 0, low: 0 };
  readonly #queues: Record<Priority, Waiter[]> = { high: [], medium: [], low: [] };
  #running = 0;
  #virtualTime = 0;

  constructor(capacity: number, ratios: PriorityRatios) {
    this.#capacity = capacity;
    // A zero ratio still gets a tiny share, so that class is never starved outright.
    const stride = (ratio: number) => 1 / Math.max(ratio, 0.001);
    this.#strides = { high: stride(ratios.high), medium: stride(ratios.medium), low: stride(ratios.low) };
  }

  acquire(priority: Priority, signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#running < this.#capacity && this.#waiting() === 0) {
      this.#running++;
      return Promise.resolve(this.#releaser());
    }
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(release);
        },
      };
      const onAbort = () => {
        const queue = this.#queues[priority];
        const index = queue.indexOf(waiter);
        if (index >= 0) queue.splice(index, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      // A class that was idle must not bank credit and then burst: it rejoins at the current virtual time.
      if (this.#queues[priority].length === 0) {
        this.#pass[priority] = Math.max(this.#pass[priority], this.#virtualTime);
      }
      this.#queues[priority].push(waiter);
    });
  }

  stats(): { running: number; capacity: number; waiting: Record<Priority, number> } {
    return {
      running: this.#running,
      capacity: this.#capacity,
      waiting: {
        high: this.#queues.high.length,
        medium: this.#queues.medium.length,
        low: this.#queues.low.length,
      },
    };
  }

  #waiting(): number {
    return this.#queues.high.length + this.#queues.medium.length + this.#queues.low.length;
  }

  #releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
      this.#dispatch();
    };
  }

  #dispatch(): void {
    while (this.#running < this.#capacity) {
      const next = this.#nextClass();
      if (!next) return;
      const waiter = this.#queues[next].shift();
      if (!waiter) return;
      this.#virtualTime = this.#pass[next];
      this.#pass[next] += this.#strides[next];
      this.#running++;
      waiter.grant(this.#releaser());
    }
  }

  #nextClass(): Priority | undefined {
    let best: Priority | undefined;
    for (const priority of priorities) {
      if (this.#queues[priority].length === 0) continue;
      if (best === undefined || this.#pass[priority] < this.#pass[best]) best = priority;
    }
    return best;
  }
}
