import type { Clock } from "../core/clock.ts";
import { OrchestratorError, toOrchestratorError } from "../core/errors.ts";
import type { IdGenerator } from "../core/ids.ts";
import { currentContext, runWithContextPatch } from "../core/request-context.ts";
import type { Sleeper } from "../core/sleeper.ts";
import type { TraceSpan } from "../core/trace-span.ts";
import type { MediaClient } from "../models/media-client.ts";
import type { ModelClient } from "../models/model-client.ts";
import type { ChatMessage } from "../providers/chat-provider.ts";
import { type BackoffSettings, type RandomSource, retryDelay } from "../resilience/backoff.ts";
import type { HeldSlot } from "../resilience/held-slot.ts";
import type { Priority } from "../resilience/priority-scheduler.ts";
import type { TaskRecordWrites } from "../store/grouped-task-writes.ts";
import type { Store, TaskRecord } from "../store/store.ts";
import type { LedgerEntry } from "../store/usage-store.ts";
import { interpolate, interpolatedLength } from "./interpolate.ts";
import { promptCharLimit, promptTooLarge } from "./prompt-size.ts";
import type { WorkflowEvent, WorkflowEvents } from "./workflow-events.ts";
import type { WorkflowTask } from "./workflow-schema.ts";

export interface EngineDeps {
  readonly models: ModelClient;
  readonly media: MediaClient;
  readonly store: Store;
  // Where task records are written (grouped into shared transactions: see GroupedTaskWrites).
  readonly taskWrites: TaskRecordWrites;
  readonly events: WorkflowEvents;
  readonly addons: Readonly<Record<string, { readonly prompt: string }>>;
  readonly clock: Clock;
  readonly newId: IdGenerator;
  readonly taskRetries: TaskRetrySettings;
  // Names this process in the task records (host and process id).
  readonly workerId: string;
  // orchestration.maxPromptChars: a filled-in prompt past it fails its task instead of being built.
  readonly maxPromptChars: number;
  // The cost ledger. A task's result is stored in one transaction with its calls' ledger rows, so a crash
  // cannot keep the result (never run again) and lose the count of the calls that made it.
  readonly ledger?: TaskLedger;
}

// The ledger's rows of the calls made under an owner (see RequestContext.ledgerOwner), handed over to be
// written with the task's record, and handed back when that write failed.
export interface TaskLedger {
  takeCallsOf(owner: object): Promise<readonly LedgerEntry[]>;
  giveBack(entries: readonly LedgerEntry[]): void;
}

// A task whose model call failed with a retryable error, after that call's own retries and fallbacks
// (an open circuit, a longer outage), is tried again this many times, waiting with backoff in between.
export interface TaskRetrySettings {
  readonly maxRetries: number;
  readonly backoff: BackoffSettings;
  readonly sleep: Sleeper;
  readonly random: RandomSource;
}

export interface TaskToRun {
  readonly stage: number;
  readonly index: number;
  readonly task: WorkflowTask;
  readonly values: Readonly<Record<string, string>>;
  // The slot of the task's model it was granted while queued, for its first call.
  readonly slot?: HeldSlot | undefined;
}

// How a task ended: its record (completed, failed or cancelled), the write of that record, and, when it did
// not complete, why. The end is known as soon as its write is queued, so the run's next step can be decided
// and its start queued behind it (committed in the same transaction, or a later one): nothing that depends
// on the result is called before the result is stored.
export interface TaskEnd {
  readonly record: TaskRecord;
  // Whether the store took the record, once committed: false when the write was refused (the run had
  // ended, or another attempt had taken it over); rejects when the write itself failed.
  readonly stored: Promise<boolean>;
  readonly error?: OrchestratorError;
}

// What every record of a task repeats.
type TaskBase = Pick<
  TaskRecord,
  "runId" | "stage" | "index" | "role" | "outputVariable" | "worker" | "attempt"
> & {
  readonly model: string;
};

interface TaskStart {
  readonly item: TaskToRun;
  readonly resolved: ReturnType<ModelClient["resolve"]>;
  readonly base: TaskBase;
}

// What a single task needs from its run: where it belongs, its attempt, and when it must stop.
export interface TaskRun {
  readonly runId: string;
  readonly signal: AbortSignal;
  readonly deadline: number;
  // The attempt at the run this task belongs to: its writes are refused once another attempt took over.
  readonly attempt: string;
}

// Workflow tasks call and queue for slots at this priority.
export const taskPriority: Priority = "medium";

const workerPrompt =
  "You are one specialist worker in a multi-step AI workflow. Do exactly the task you are given, completely " +
  "and concretely; your output is passed on to later steps as it is, so write the deliverable itself without " +
  "preamble or questions back.";

// Runs single tasks of a workflow (chat calls, images, videos), with task-level retries, storing each
// task's start and result as they happen. Which task runs when is decided by the run rules.
export class WorkflowEngine {
  readonly #deps: EngineDeps;

  constructor(deps: EngineDeps) {
    this.#deps = deps;
  }

  // Starts tasks of one run together (a stage's parallel tasks): their starts are stored in one write,
  // then each runs on its own and stores its result (or failure) as it ends. One promise per task, in
  // order: how it ended, or undefined when its start could not be stored (the run ended, or another
  // attempt took it over) and nothing was called. A promise rejects only when the start's write failed.
  runTasks(run: TaskRun, items: readonly TaskToRun[]): Promise<TaskEnd | undefined>[] {
    const { taskWrites, clock } = this.#deps;
    let starts: TaskStart[];
    try {
      run.signal.throwIfAborted();
      starts = items.map((item) => this.#startOf(run, item));
    } catch (error) {
      return items.map(() => Promise.reject(error));
    }
    const startedAt = clock.isoNow();
    const stored = taskWrites.saveTasks(
      starts.map(({ base }) => ({
        ...base,
        status: "running",
        output: null,
        error: null,
        usage: null,
        startedAt,
        finishedAt: null,
      })),
    );
    return starts.map(async (start, position) => {
      if (!(await stored)[position]) return undefined;
      return this.#runStarted(run, start.item, start.resolved, start.base, startedAt);
    });
  }

  #startOf(run: TaskRun, item: TaskToRun): TaskStart {
    const resolved = this.#deps.models.resolve(item.task.model);
    const base: TaskBase = {
      runId: run.runId,
      stage: item.stage,
      index: item.index,
      role: resolved.role,
      model: resolved.definition.model,
      outputVariable: item.task.output_variable,
      worker: this.#deps.workerId,
      attempt: run.attempt,
    };
    return { item, resolved, base };
  }

  async #runStarted(
    run: TaskRun,
    { stage, index, task, values, slot }: TaskToRun,
    resolved: TaskStart["resolved"],
    base: TaskBase,
    startedAt: string,
  ): Promise<TaskEnd> {
    const { events, clock } = this.#deps;
    events.emit({
      type: "task_started",
      workflowId: run.runId,
      stage,
      index,
      role: base.role,
      model: base.model,
      at: startedAt,
    });
    // Marks the ledger rows of this task's calls, so they are written with its result.
    const owner = {};
    const span = startTaskSpan(run.runId, stage, index, base);
    try {
      const prompt = this.#fillIn(task, values, stage, index);
      const result = await runWithContextPatch({ ledgerOwner: owner, ...(span ? { span } : {}) }, () =>
        this.#withTaskRetries(run, stage, index, () =>
          resolved.definition.kind === "chat"
            ? this.#chatTask(run, task, prompt, slot)
            : this.#mediaTask(run, task, prompt),
        ),
      );
      span?.set({ "gen_ai.response.model": result.model, "orchestrator.cost_usd": result.usage.costUsd });
      span?.end();
      const finishedAt = clock.isoNow();
      const record: TaskRecord = {
        ...base,
        model: result.model,
        status: "completed",
        output: result.output,
        error: null,
        usage: result.usage,
        startedAt,
        finishedAt,
      };
      return await this.#ended(owner, record, {
        type: "task_completed",
        workflowId: run.runId,
        stage,
        index,
        outputVariable: task.output_variable,
        usage: result.usage,
        at: finishedAt,
      });
    } catch (raw) {
      const error = run.signal.aborted ? abortReason(run.signal, raw) : toOrchestratorError(raw);
      span?.fail(error.code, error.message);
      span?.end();
      const finishedAt = clock.isoNow();
      const summary = { type: error.kind, code: error.code, message: error.message };
      const status = error.code === "cancelled" ? "cancelled" : "failed";
      const record: TaskRecord = {
        ...base,
        status,
        output: null,
        error: summary,
        usage: null,
        startedAt,
        finishedAt,
      };
      const end = await this.#ended(owner, record, {
        type: "task_failed",
        workflowId: run.runId,
        stage,
        index,
        error: summary,
        at: finishedAt,
      });
      return { ...end, error };
    }
  }

  // Queues an ended task's record, to commit in one transaction with the ledger rows of its calls; its
  // event is told once the write is done.
  async #ended(owner: object, record: TaskRecord, event: WorkflowEvent): Promise<TaskEnd> {
    const { taskWrites, ledger, events } = this.#deps;
    const calls = (await ledger?.takeCallsOf(owner)) ?? [];
    const stored = taskWrites.saveTasks([record], calls).then(
      ([saved]) => {
        // Told in the same turn as the write's commit, before the next task's start it was committed with.
        events.emit(event);
        return saved === true;
      },
      (error: unknown) => {
        ledger?.giveBack(calls);
        throw error;
      },
    );
    return { record, stored };
  }

  // Measures before building: an output far longer than its estimate must not become a giant string.
  #fillIn(task: WorkflowTask, values: Readonly<Record<string, string>>, stage: number, index: number) {
    const chars = interpolatedLength(task.prompt, (name) => values[name]?.length);
    const limit = promptCharLimit(
      this.#deps.models.resolve(task.model).definition,
      task.config?.max_tokens,
      this.#deps.maxPromptChars,
    );
    if (chars > limit.chars)
      throw promptTooLarge(`the prompt of task ${index} of stage ${stage}`, chars, limit);
    return interpolate(task.prompt, values);
  }

  async #withTaskRetries<T>(run: TaskRun, stage: number, index: number, attempt: () => Promise<T>) {
    const { clock, events, taskRetries } = this.#deps;
    for (let retry = 0; ; retry++) {
      try {
        return await attempt();
      } catch (raw) {
        const error = toOrchestratorError(raw);
        if (run.signal.aborted || !error.retryable || retry >= taskRetries.maxRetries) throw error;
        const delayMs = retryDelay(retry, taskRetries.backoff, taskRetries.random, error.retryAfterMs);
        if (clock.now() + delayMs >= run.deadline) throw error;
        events.emit({
          type: "task_retrying",
          workflowId: run.runId,
          stage,
          index,
          attempt: retry + 2,
          delayMs,
          error: { type: error.kind, code: error.code, message: error.message },
          at: clock.isoNow(),
        });
        await taskRetries.sleep(delayMs, run.signal);
      }
    }
  }

  async #chatTask(run: TaskRun, task: WorkflowTask, prompt: string, slot: HeldSlot | undefined) {
    const addonText = (task.config?.addons ?? [])
      .map((name) => this.#deps.addons[name]?.prompt ?? "")
      .filter(Boolean);
    const messages: ChatMessage[] = [
      { role: "system", content: [workerPrompt, ...addonText].join("\n\n") },
      { role: "user", content: prompt },
    ];
    const call = await this.#deps.models.call(task.model, {
      messages,
      purpose: "task",
      priority: taskPriority,
      signal: run.signal,
      deadline: run.deadline,
      ...(slot ? { slot } : {}),
      ...(task.config?.temperature === undefined ? {} : { temperature: task.config.temperature }),
      ...(task.config?.max_tokens === undefined ? {} : { maxTokens: task.config.max_tokens }),
    });
    return { output: call.content, model: call.model, usage: call.usage };
  }

  // Images and videos are stored as artifacts; the task's output is the URL they are served at.
  async #mediaTask(run: TaskRun, task: WorkflowTask, prompt: string) {
    const made = await this.#deps.media.generate(task.model, prompt, {
      signal: run.signal,
      deadline: run.deadline,
    });
    const artifact = await this.#deps.store.saveArtifact({
      id: this.#deps.newId(),
      runId: run.runId,
      contentType: made.contentType,
      data: made.data,
      simulated: made.simulated,
    });
    return {
      output: `/artifacts/${artifact.id}`,
      model: made.model,
      usage: { promptTokens: 0, completionTokens: 0, costUsd: made.costUsd },
    };
  }
}

// Why the run's signal fired: the workflow's own timeout, or a cancellation.
function abortReason(signal: AbortSignal, raw: unknown): OrchestratorError {
  if (OrchestratorError.isInstance(signal.reason)) return signal.reason;
  return OrchestratorError.isInstance(raw) && raw.code !== "cancelled"
    ? raw
    : new OrchestratorError({
        kind: "logical",
        code: "cancelled",
        status: 499,
        message: "the workflow was cancelled",
      });
}

// A workflow task as a span of its run's trace (under the run's span, or the span its queued job carried).
function startTaskSpan(
  runId: string,
  stage: number,
  index: number,
  base: { readonly role: string; readonly model: string },
): TraceSpan | undefined {
  return currentContext()?.span?.child("workflow.task", {
    attributes: {
      "orchestrator.workflow_id": runId,
      "orchestrator.task.stage": stage,
      "orchestrator.task.index": index,
      "orchestrator.role": base.role,
      "gen_ai.request.model": base.model,
    },
  });
}
