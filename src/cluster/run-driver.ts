import { type Job, type Queue, WaitingChildrenError } from "bullmq";
import type { Logger } from "pino";
import type { Clock } from "../core/clock.ts";
import { OrchestratorError, toOrchestratorError } from "../core/errors.ts";
import { runWithContext } from "../core/request-context.ts";
import type { RunRecord, RunUsage, Store, TaskRecord } from "../store/store.ts";
import { addUsage, type WorkflowEngine } from "../workflows/workflow-engine.ts";
import type { WorkflowDefinition } from "../workflows/workflow-schema.ts";
import { timeoutError, type WorkflowService, zeroUsage } from "../workflows/workflow-service.ts";
import { type AdvanceJobData, type JobContext, type TaskJobData, taskJob } from "./jobs.ts";

export interface RunDriverDeps {
  readonly workflows: WorkflowService;
  readonly engine: WorkflowEngine;
  readonly store: Store;
  readonly queue: Queue;
  readonly clock: Clock;
  readonly logger: Logger;
}

// The worker side of distributed execution. Every decision is made from the database, so a job that runs
// again (after a worker died, or when its children finish) picks up exactly where the run stands: a task
// that finished is never run again, a task that was cut off is run again.
export class RunDriver {
  readonly #deps: RunDriverDeps;
  // Aborts the running tasks of a run when it is cancelled.
  readonly #running = new Map<string, Set<AbortController>>();

  constructor(deps: RunDriverDeps) {
    this.#deps = deps;
  }

  cancel(runId: string): void {
    const reason = new OrchestratorError({
      kind: "logical",
      code: "cancelled",
      status: 499,
      message: "the workflow was cancelled",
    });
    for (const controller of this.#running.get(runId) ?? []) controller.abort(reason);
  }

  async advance(job: Job<AdvanceJobData>, token: string): Promise<void> {
    const { runId, deadline } = job.data;
    await inContext(job.data.context, runId, async () => {
      let lastState = "";
      for (;;) {
        const run = await this.#deps.store.getRun(runId);
        // Ended, or superseded by a later attempt (cancelled and resumed): this job stands down.
        if (run?.status !== "running" || run.attempt !== job.data.attempt) return;
        const signal = this.#signal(runId, deadline);
        let usage = job.data.planUsage ?? zeroUsage;
        try {
          if (this.#deps.clock.now() >= deadline) throw timeoutError();
          let definition = run.workflow as WorkflowDefinition | null;
          if (!definition) {
            const plan = await this.#deps.workflows.plan(run, signal.signal, deadline);
            definition = plan.definition;
            usage = plan.usage;
            await job.updateData({ ...job.data, planUsage: plan.usage });
          }
          const tasks = await this.#deps.store.listTasks(runId);
          const next = nextTasks(definition, tasks, job.data.attempt);
          if (next.kind === "done") {
            usage = addUsage(usage, sumUsage(tasks));
            await this.#deps.workflows.complete(run, outputsOf(tasks), usage, signal.signal, deadline);
            return;
          }
          if (next.kind === "failed") throw next.error;
          // Children that finish at once leave nothing to wait for; the same state twice means no progress.
          const state = JSON.stringify(tasks.map((t) => [t.stage, t.index, t.status, t.finishedAt]));
          if (state === lastState) throw stuck(runId);
          lastState = state;
          await this.#queueTasks(job, run, next.stage, next.indexes);
          if (await job.moveToWaitingChildren(token)) throw new WaitingChildrenError();
        } catch (raw) {
          if (raw instanceof WaitingChildrenError) throw raw;
          const failure = signal.signal.aborted ? reasonOf(signal.signal, raw) : toOrchestratorError(raw);
          const spent = addUsage(usage, await this.#deps.workflows.spentSoFar(runId));
          await this.#deps.workflows.fail(run, failure, spent);
          return;
        } finally {
          signal.release();
        }
      }
    });
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
    await this.#deps.workflows.fail(run, failure, await this.#deps.workflows.spentSoFar(run.id));
  }

  async task(job: Job<TaskJobData>): Promise<void> {
    const { runId, stage, index, deadline } = job.data;
    await inContext(job.data.context, runId, async () => {
      const run = await this.#deps.store.getRun(runId);
      if (run?.status !== "running" || run.attempt !== job.data.attempt) return;
      const tasks = await this.#deps.store.listTasks(runId);
      const record = tasks.find((t) => t.stage === stage && t.index === index);
      // Exactly once from the user's view: a finished task is never run again.
      if (record?.status === "completed") return;
      const definition = run.workflow as WorkflowDefinition;
      const task = definition.stages[stage]?.tasks[index];
      if (!task) throw new Error(`run ${runId} has no task ${stage}.${index}`);
      const values = { ...definition.variables, ...outputsOf(tasks) };
      const signal = this.#signal(runId, deadline);
      try {
        await this.#deps.engine.runTask(
          { runId, signal: signal.signal, deadline, attempt: job.data.attempt },
          stage,
          index,
          task,
          values,
        );
      } catch (error) {
        // The engine stored the failure with the task; the run's advance job decides what it means.
        this.#deps.logger.info(
          { workflowId: runId, stage, index, code: toOrchestratorError(error).code },
          "task failed",
        );
      } finally {
        signal.release();
      }
    });
  }

  async #queueTasks(job: Job<AdvanceJobData>, run: RunRecord, stage: number, indexes: readonly number[]) {
    const parent = { id: job.id ?? "", queue: job.queueQualifiedName };
    await this.#deps.queue.addBulk(
      indexes.map((index) => ({
        name: taskJob,
        data: {
          runId: run.id,
          attempt: job.data.attempt,
          stage,
          index,
          deadline: job.data.deadline,
          context: job.data.context,
        } satisfies TaskJobData,
        opts: {
          jobId: `${run.id}.${job.data.attempt}.${stage}.${index}`,
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

type NextTasks =
  | { kind: "done" }
  | { kind: "failed"; error: OrchestratorError }
  | { kind: "run"; stage: number; indexes: number[] };

// What the run needs next: the first stage with unfinished tasks gives all of them (linear) or its first one
// (inline); a task that failed during this attempt fails the run (earlier attempts' failures are retried).
export function nextTasks(
  definition: WorkflowDefinition,
  tasks: readonly TaskRecord[],
  attempt: string,
): NextTasks {
  const byPosition = new Map(tasks.map((t) => [`${t.stage}:${t.index}`, t]));
  for (const [stage, { type, tasks: stageTasks }] of definition.stages.entries()) {
    const pending = stageTasks
      .map((_, index) => ({ index, record: byPosition.get(`${stage}:${index}`) }))
      .filter(({ record }) => record?.status !== "completed");
    if (pending.length === 0) continue;
    const failed = pending.find(
      ({ record }) =>
        (record?.status === "failed" || record?.status === "cancelled") && record.attempt === attempt,
    );
    if (failed?.record?.error) {
      const { type: kind, code, message } = failed.record.error;
      return {
        kind: "failed",
        error: new OrchestratorError({ kind: kind as OrchestratorError["kind"], code, message }),
      };
    }
    const indexes = pending.map(({ index }) => index);
    return { kind: "run", stage, indexes: type === "linear" ? indexes : indexes.slice(0, 1) };
  }
  return { kind: "done" };
}

function outputsOf(tasks: readonly TaskRecord[]): Record<string, string> {
  return Object.fromEntries(
    tasks
      .filter((t) => t.status === "completed" && t.output !== null)
      .map((t) => [t.outputVariable, t.output ?? ""]),
  );
}

function sumUsage(tasks: readonly TaskRecord[]): RunUsage {
  return tasks.reduce((sum, t) => (t.usage ? addUsage(sum, t.usage) : sum), zeroUsage);
}

function reasonOf(signal: AbortSignal, raw: unknown): OrchestratorError {
  return OrchestratorError.isInstance(signal.reason) ? signal.reason : toOrchestratorError(raw);
}

function stuck(runId: string): OrchestratorError {
  return new OrchestratorError({
    kind: "fatal",
    code: "workflow_stuck",
    message: `run ${runId} made no progress: a task job ended without a result`,
  });
}

function inContext<T>(context: JobContext, runId: string, work: () => Promise<T>): Promise<T> {
  return runWithContext(
    {
      requestId: context.requestId,
      endpoint: "worker",
      sessionId: context.sessionId,
      category: context.category,
      workflowId: runId,
    },
    work,
  );
}
