import {
  type Priority,
  type PriorityRatios,
  PriorityScheduler,
  priorities,
  type Release,
  type SlotWaiter,
} from "./priority-scheduler.ts";

export interface SchedulerStats {
  readonly running: number;
  readonly waiting: Record<Priority, number>;
}

// Bounds upstream calls per model, not across all of them: one slow or busy model must not take the slots
// of the others, and a process's throughput is not capped by one global number. Each model has its own
// priority scheduler, made on first use and dropped when idle, so only models with calls in flight are held.
export class ModelSchedulers {
  readonly #capacityFor: (model: string) => number;
  readonly #ratios: PriorityRatios;
  readonly #schedulers = new Map<string, PriorityScheduler>();

  constructor(capacityFor: (model: string) => number, ratios: PriorityRatios) {
    this.#capacityFor = capacityFor;
    this.#ratios = ratios;
  }

  acquire(model: string, priority: Priority, signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return this.#schedulerOf(model).acquire(priority, signal);
  }

  // Queues a plain waiter for a slot of `model` (see PriorityScheduler.enqueue); granted at once if free.
  enqueue(model: string, priority: Priority, waiter: SlotWaiter): void {
    this.#schedulerOf(model).enqueue(priority, waiter);
  }

  // Takes a queued waiter out; false when it is no longer waiting.
  withdraw(model: string, priority: Priority, waiter: SlotWaiter): boolean {
    return this.#schedulers.get(model)?.withdraw(priority, waiter) ?? false;
  }

  // All models together.
  stats(): SchedulerStats {
    const waiting: Record<Priority, number> = { high: 0, medium: 0, low: 0 };
    let running = 0;
    for (const scheduler of this.#schedulers.values()) {
      const stats = scheduler.stats();
      running += stats.running;
      for (const priority of priorities) waiting[priority] += stats.waiting[priority];
    }
    return { running, waiting };
  }

  // The models with calls in flight or waiting, and each one's limit.
  byModel(): { model: string; running: number; capacity: number; waiting: Record<Priority, number> }[] {
    return [...this.#schedulers].map(([model, scheduler]) => ({ model, ...scheduler.stats() }));
  }

  #schedulerOf(model: string): PriorityScheduler {
    let scheduler = this.#schedulers.get(model);
    if (!scheduler) {
      const own: PriorityScheduler = new PriorityScheduler(this.#capacityFor(model), this.#ratios, () => {
        if (this.#schedulers.get(model) === own) this.#schedulers.delete(model);
      });
      scheduler = own;
      this.#schedulers.set(model, scheduler);
    }
    return scheduler;
  }
}
