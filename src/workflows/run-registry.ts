// Keeps track of background runs in this process, so they can be cancelled and waited for at shutdown.
export class RunRegistry {
  readonly #running = new Map<string, { controller: AbortController; done: Promise<void> }>();

  start(id: string, task: (signal: AbortSignal) => Promise<void>): void {
    const controller = new AbortController();
    const done = task(controller.signal)
      .catch(() => undefined)
      .finally(() => this.#running.delete(id));
    this.#running.set(id, { controller, done });
  }

  get size(): number {
    return this.#running.size;
  }

  isRunning(id: string): boolean {
    return this.#running.has(id);
  }

  // Resolves when the run ends (at once if it is not running in this process).
  async whenDone(id: string): Promise<void> {
    await this.#running.get(id)?.done;
  }

  cancel(id: string, reason?: unknown): boolean {
    const run = this.#running.get(id);
    run?.controller.abort(reason);
    return run !== undefined;
  }

  async waitForIdle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running.values()].map((run) => run.done));
  }

  async abortAll(reason?: unknown): Promise<void> {
    for (const run of this.#running.values()) run.controller.abort(reason);
    await this.waitForIdle();
  }
}
