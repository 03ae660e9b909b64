import type { Queue } from "bullmq";
import type { Clock } from "../core/clock.ts";
import { currentContext } from "../core/request-context.ts";
import type { Store } from "../store/store.ts";
import type { WorkflowEvents } from "../workflows/workflow-events.ts";
import type { RunQueue } from "../workflows/workflow-service.ts";
import { type AdvanceJobData, advanceJob, type CancelMessage } from "./jobs.ts";
import type { RedisChannel } from "./redis-channel.ts";

// The API side of distributed execution: a run starts as an "advance" job on the queue; cancellations go to
// every worker over Redis; waiting for a run listens to its events, with the database as the last word.
export class QueueRunner implements RunQueue {
  readonly #queue: Queue;
  readonly #cancels: RedisChannel<CancelMessage>;
  readonly #events: WorkflowEvents;
  readonly #store: Store;
  readonly #clock: Clock;

  constructor(options: {
    queue: Queue;
    cancels: RedisChannel<CancelMessage>;
    events: WorkflowEvents;
    store: Store;
    clock: Clock;
  }) {
    this.#queue = options.queue;
    this.#cancels = options.cancels;
    this.#events = options.events;
    this.#store = options.store;
    this.#clock = options.clock;
  }

  async start(id: string, deadline: number): Promise<void> {
    const context = currentContext();
    const data: AdvanceJobData = {
      runId: id,
      deadline,
      attemptStartedAt: this.#clock.isoNow(),
      attempt: this.#clock.now(),
      context: {
        requestId: context?.requestId ?? `run-${id}`,
        sessionId: context?.sessionId,
        category: context?.category,
      },
    };
    await this.#queue.add(advanceJob, data, {
      jobId: `${id}.advance.${data.attempt}`,
      removeOnComplete: true,
      removeOnFail: 1000,
    });
  }

  async cancel(id: string): Promise<void> {
    await this.#cancels.publish({ runId: id });
  }

  waitFor(id: string): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        unsubscribe();
        clearInterval(timer);
        resolve();
      };
      const unsubscribe = this.#events.subscribe(id, (event) => {
        if (event.type === "workflow_finished") done();
      });
      // Events may be missed (the run ended before this subscription, or a Redis hiccup): the store decides.
      const check = async () => {
        const run = await this.#store.getRun(id).catch(() => undefined);
        if (run?.status !== "running") done();
      };
      timer = setInterval(() => void check(), 1_000);
      void check();
    });
  }
}
