import type { Queue } from "bullmq";
import type { Clock } from "../core/clock.ts";
import { OrchestratorError } from "../core/errors.ts";
import { currentContext } from "../core/request-context.ts";
import type { RunRecord, Store } from "../store/store.ts";
import { newAttempt, type RunExecutor, type RunStart } from "../workflows/run-executor.ts";
import type { WorkflowEvents } from "../workflows/workflow-events.ts";
import { type AdvanceJobData, advanceJob, type CancelMessage } from "./jobs.ts";
import type { RedisChannel } from "./redis-channel.ts";

// Job states in which the job will still be run (or is running).
const liveStates = new Set(["waiting", "active", "delayed", "prioritized", "waiting-children"]);

// The executor for worker processes: a run starts as an "advance" job on the queue (its workers run the
// rules, see RunDriver); cancellations go to every worker over Redis; waiting for a run listens to its
// events, with the database as the last word. The run's lease names its advance job: while that job
// lives, the run is driven.
export class QueueExecutor implements RunExecutor {
  readonly #queue: Queue;
  readonly #cancels: RedisChannel<CancelMessage>;
  readonly #events: WorkflowEvents;
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #leaseMs: number;

  constructor(options: {
    queue: Queue;
    cancels: RedisChannel<CancelMessage>;
    events: WorkflowEvents;
    store: Store;
    clock: Clock;
    leaseMs: number;
  }) {
    this.#queue = options.queue;
    this.#cancels = options.cancels;
    this.#events = options.events;
    this.#store = options.store;
    this.#clock = options.clock;
    this.#leaseMs = options.leaseMs;
  }

  // A queued run is claimed by the worker whose job drives it.
  claimForNewRun(): undefined {
    return undefined;
  }

  async start(request: RunStart): Promise<boolean> {
    const { id } = request;
    const now = this.#clock.now();
    const context = currentContext();
    const data: AdvanceJobData = {
      runId: id,
      deadline: now + request.timeoutMs,
      attempt: newAttempt(now),
      context: {
        requestId: context?.requestId ?? `run-${id}`,
        sessionId: context?.sessionId,
        category: context?.category,
        // The run's owner, not whoever starts it: a recovery sweep has no client.
        clientId: request.owner ?? undefined,
        trace: context?.span?.carrier(),
      },
    };
    const jobId = `${id}.advance.${data.attempt}`;
    const claimed = await this.#store.claimRun(id, {
      attempt: data.attempt,
      expectedAttempt: request.expectedAttempt,
      leaseOwner: jobId,
      leaseExpiresAt: new Date(now + this.#leaseMs).toISOString(),
      ...(request.recovering ? { recoveringAt: new Date(now).toISOString() } : {}),
    });
    if (!claimed) return false;
    try {
      await this.#queue.add(advanceJob, data, {
        jobId,
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
        .finishRun(
          id,
          {
            status: "failed",
            error: { type: failure.kind, code: failure.code, message: failure.message },
          },
          [],
          data.attempt,
        )
        .catch(() => undefined);
      throw failure;
    }
    this.#events.emit({ type: "workflow_started", workflowId: id, at: this.#clock.isoNow() });
    return true;
  }

  async cancel(id: string): Promise<void> {
    await this.#cancels.publish({ runId: id });
  }

  async runningCount(): Promise<number> {
    return this.#store.countRunning();
  }

  async stillDriven(run: RunRecord): Promise<boolean> {
    if (!run.leaseOwner) return false;
    const state = await this.#queue.getJobState(run.leaseOwner);
    if (!liveStates.has(state)) return false;
    const until = new Date(this.#clock.now() + this.#leaseMs).toISOString();
    await this.#store.renewLeases(run.leaseOwner, until, [run.id]);
    return true;
  }

  // The workers hold the work; nothing runs in this process to wait for.
  async close(): Promise<void> {}

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
