import { type Job, type Queue, WaitingChildrenError } from "bullmq";
import type { Logger } from "pino";
import type { Clock } from "../core/clock.ts";
import { OrchestratorError, toOrchestratorError } from "../core/errors.ts";
import { currentContext, runWithContext } from "../core/request-context.ts";
import type { TraceSpan, Tracing } from "../core/trace-span.ts";
import { addUsage, type Usage, zeroUsage } from "../core/usage.ts";
import type { RunRecord, Store } from "../store/store.ts";
import {
  cancelledError,
  failureOf,
  nextStep,
  type TaskDescriptor,
  timeoutError,
} from "../workflows/run-rules.ts";
import type { RunSteps } from "../workflows/run-steps.ts";
import { type AdvanceJobData, type JobContext, type TaskJobData, taskJob } from "./jobs.ts";

export interface RunDriverDeps {
  readonly steps: RunSteps;
  readonly store: Store;
  readonly queue: Queue;
  readonly clock: Clock;
  readonly logger: Logger;
  // Continues the trace of the request that queued the run; absent or off, no spans.
  readonly tracing?: Tracing;
}

// The worker side of the queue executor: an "advance" job asks the run rules what is next and carries it
// out (plan, queue the ready tasks as its child jobs and wait for them, complete or fail); a "task" job runs
// one task. Every decision is made from the database, so a job that runs again (after a worker died, or when
// its children finish) picks up exactly where the run stands: a finished task is never run again.
export class RunDriver {
  readonly #deps: RunDriverDeps;
  // Aborts the running tasks of a run when it is cancelled.
  readonly #running = new Map<string, Set<AbortController>>();

  constructor(deps: RunDriverDeps) {
    this.#deps = deps;
  }

  cancel(runId: string): void {
    for (const controller of this.#running.get(runId) ?? []) controller.abort(cancelledError());
  }

  async advance(job: Job<AdvanceJobData>, token: string): Promise<void> {
    const { runId, deadline } = job.data;
    const { store, steps, clock } = this.#deps;
    // One span per pass of the advance job (it runs again each time its tasks end).
    const span = this.#deps.tracing?.continueFrom(job.data.context.trace)?.child("workflow.run", {
      kind: "consumer",
      attributes: { "orchestrator.workflow_id": runId, "orchestrator.job": job.id },
    });
    await inContext(job.data.context, runId, span, async () => {
      let lastState = "";
      for (;;) {
        const [run, tasks] = await Promise.all([store.getRun(runId), store.listTasks(runId)]);
        // Ended, or superseded by a later attempt (cancelled and resumed, or recovered): this job stands down.
        if (run?.status !== "running" || run.attempt !== job.data.attempt) return;
        const signal = this.#signal(runId, deadline);
        const planUsage = job.data.planUsage ?? zeroUsage;
        const context = { signal: signal.signal, deadline };
        try {
          if (clock.now() >= deadline) throw timeoutError();
          const step = nextStep(run, tasks);
          switch (step.kind) {
            case "plan": {
              const usage = await steps.plan(run, context);
              await job.updateData({ ...job.data, planUsage: usage });
              continue;
            }
            case "complete":
              await steps.complete(run, step.outputs, addUsage(planUsage, step.usage), context);
              return;
            case "fail":
              await this.#fail(run, step.error, planUsage);
              return;
            case "start":
            case "wait": {
              // Children that end at once leave nothing to wait for; the same state twice means no progress.
              const state = JSON.stringify(tasks.map((t) => [t.stage, t.index, t.status, t.finishedAt]));
              if (state === lastState) throw stuck(runId);
              lastState = state;
              if (step.kind === "start") await this.#queueTasks(job, step.tasks);
              if (await job.moveToWaitingChildren(token)) throw new WaitingChildrenError();
              continue;
            }
          }
        } catch (raw) {
          if (raw instanceof WaitingChildrenError) throw raw;
          await this.#fail(run, failureOf(signal.signal, raw), planUsage);
          return;
        } finally {
          signal.release();
        }
      }
    }).finally(() => span?.end());
  }

  // The advance job gave up (its tries spent on errors outside the workflow, such as the database): the run
  // is failed rather than left running for ever.
  async abandon(job: Job<AdvanceJobData>, error: Error): Promise<void> {
    const run = await this.#deps.store.getRun(job.data.runId);
    if (run?.status !== "running" || run.attempt !== job.data.attempt) return;
    const failure = new OrchestratorError({
      kind: "fatal",
      code: "workflow_abandoned",
      message: `the workflow could not be driven on: ${error.message}`,
      cause: error,
    });
    await this.#fail(run, failure, job.data.planUsage ?? zeroUsage);
  }

  async task(job: Job<TaskJobData>): Promise<void> {
    const { runId, stage, index, deadline, attempt } = job.data;
    // The task's span (workflow-engine.ts) is a child of the run's span that queued this job.
    const parent = this.#deps.tracing?.continueFrom(job.data.context.trace);
    await inContext(job.data.context, runId, parent, async () => {
      const signal = this.#signal(runId, deadline);
      try {
        await this.#deps.steps.runTask({ runId, attempt, stage, index }, { signal: signal.signal, deadline });
      } catch (error) {
        // The failure is stored with the task; the run's advance job decides what it means.
        this.#deps.logger.info(
          { workflowId: runId, stage, index, code: toOrchestratorError(error).code },
          "task failed",
        );
      } finally {
        signal.release();
      }
    });
  }

  async #fail(run: RunRecord, failure: OrchestratorError, planUsage: Usage): Promise<void> {
    const spent = addUsage(planUsage, await this.#deps.steps.spentSoFar(run.id));
    await this.#deps.steps.fail(run, failure, spent);
  }

  async #queueTasks(job: Job<AdvanceJobData>, tasks: readonly TaskDescriptor[]) {
    const parent = { id: job.id ?? "", queue: job.queueQualifiedName };
    const trace = currentContext()?.span?.carrier() ?? job.data.context.trace;
    await this.#deps.queue.addBulk(
      tasks.map((task) => ({
        name: taskJob,
        data: {
          runId: task.runId,
          attempt: task.attempt,
          stage: task.stage,
          index: task.index,
          deadline: job.data.deadline,
          context: { ...job.data.context, trace },
        } satisfies TaskJobData,
        opts: {
          // One job per task and attempt: queueing it again while it exists changes nothing.
          jobId: `${task.runId}.${task.attempt}.${task.stage}.${task.index}`,
          parent,
          removeOnComplete: true,
          removeOnFail: 1000,
          // A task job that fails outright (not a model failure: those are stored) still wakes its run.
          continueParentOnFailure: true,
        },
      })),
    );
  }

  // The run's signal in this process: its cancellation, and its deadline.
  #signal(runId: string, deadline: number): { signal: AbortSignal; release: () => void } {
    const controller = new AbortController();
    const set = this.#running.get(runId) ?? new Set();
    set.add(controller);
    this.#running.set(runId, set);
    const remainingMs = Math.max(0, deadline - this.#deps.clock.now());
    const timer = setTimeout(() => controller.abort(timeoutError()), remainingMs);
    timer.unref();
    return {
      signal: controller.signal,
      release: () => {
        clearTimeout(timer);
        set.delete(controller);
        if (set.size === 0) this.#running.delete(runId);
      },
    };
  }
}

function stuck(runId: string): OrchestratorError {
  return new OrchestratorError({
    kind: "fatal",
    code: "workflow_stuck",
    message: `run ${runId} made no progress: a task job ended without a result`,
  });
}

function inContext<T>(
  context: JobContext,
  runId: string,
  span: TraceSpan | undefined,
  work: () => Promise<T>,
): Promise<T> {
  return runWithContext(
    {
      span,
      requestId: context.requestId,
      endpoint: "worker",
      sessionId: context.sessionId,
      category: context.category,
      clientId: context.clientId,
      workflowId: runId,
    },
    work,
  );
}
