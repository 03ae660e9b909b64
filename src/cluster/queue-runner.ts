import { randomUUID } from "node:crypto";
import type { Queue } from "bullmq";
import type { Clock } from "../core/clock.ts";
import { OrchestratorError } from "../core/errors.ts";
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
      attempt: `${this.#clock.now().toString(36)}-${randomUUID().slice(0, 8)}`,
      context: {
        requestId: context?.requestId ?? `run-${id}`,
        sessionId: context?.sessionId,
        category: context?.category,
      },
    };
    try {
      await this.#store.setRunAttempt(id, data.attempt);
      await this.#queue.add(advanceJob, data, {
        jobId: `${id}.advance.${data.attempt}`,
        removeOnComplete: true,
        removeOnFail: 1000,
        // The advance job is idempotent: a database blip is worth another try.
        attempts: 3,
        backoff: { type: "exponential", delay: 1_000 },
      });
    } catch (error) {
      // A run that never reaches the queue must not stay "running" for ever.
      const failure = new OrchestratorError({
        kind: "transient",
        code: "queue_unavailable",
        status: 503,
        message: `the workflow queue is not reachable: ${(error as Error).message}`,
        cause: error,
      });
      await this.#store
        .finishRun(id, {
          status: "failed",
          error: { type: failure.kind, code: failure.code, message: failure.message },
        })
        .catch(() => undefined);
      throw failure;
    }
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
        // A failed read says nothing about the run: keep waiting.
        const run = await this.#store.getRun(id).catch(() => "unknown" as const);
        if (run !== "unknown" && run?.status !== "running") done();
      };
      timer = setInterval(() => void check(), 1_000);
      void check();
    });
  }
}
