import {
  type Priority,
  type PriorityRatios,
  PriorityScheduler,
  priorities,
  type Release,
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

  async acquire(model: string, priority: Priority, signal?: AbortSignal): Promise<Release> {
    let scheduler = this.#schedulers.get(model);
    if (!scheduler) {
      scheduler = new PriorityScheduler(this.#capacityFor(model), this.#ratios);
      this.#schedulers.set(model, scheduler);
    }
    const own = scheduler;
    try {
      const release = await own.acquire(priority, signal);
      return () => {
        release();
        this.#dropIfIdle(model, own);
      };
    } catch (error) {
      this.#dropIfIdle(model, own);
      throw error;
    }
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

  #dropIfIdle(model: string, scheduler: PriorityScheduler): void {
    const { running, waiting } = scheduler.stats();
    if (running === 0 && waiting.high + waiting.medium + waiting.low === 0) {
      if (this.#schedulers.get(model) === scheduler) this.#schedulers.delete(model);
    }
  }
}
