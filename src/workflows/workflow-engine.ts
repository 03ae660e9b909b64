import type { Clock } from "../core/clock.ts";
import { OrchestratorError, toOrchestratorError } from "../core/errors.ts";
import type { IdGenerator } from "../core/ids.ts";
import type { MediaClient } from "../models/media-client.ts";
import type { ModelClient } from "../models/model-client.ts";
import type { ChatMessage } from "../providers/chat-provider.ts";
import { type BackoffSettings, type RandomSource, retryDelay } from "../resilience/backoff.ts";
import type { Sleeper } from "../resilience/sleeper.ts";
import type { RunUsage, Store, TaskRecord } from "../store/store.ts";
import { interpolate, interpolatedLength } from "./interpolate.ts";
import { promptCharLimit, promptTooLarge } from "./prompt-size.ts";
import type { WorkflowEvents } from "./workflow-events.ts";
import type { WorkflowDefinition, WorkflowTask } from "./workflow-schema.ts";

export interface EngineDeps {
  readonly models: ModelClient;
  readonly media: MediaClient;
  readonly store: Store;
  readonly events: WorkflowEvents;
  readonly addons: Readonly<Record<string, { readonly prompt: string }>>;
  readonly clock: Clock;
  readonly newId: IdGenerator;
  readonly taskRetries: TaskRetrySettings;
  // Names this process in the task records (host and process id).
  readonly workerId: string;
  // orchestration.maxPromptChars: a filled-in prompt past it fails its task instead of being built.
  readonly maxPromptChars: number;
}

// A task whose model call failed with a retryable error, after that call's own retries and fallbacks
// (an open circuit, a longer outage), is tried again this many times, waiting with backoff in between.
export interface TaskRetrySettings {
  readonly maxRetries: number;
  readonly backoff: BackoffSettings;
  readonly sleep: Sleeper;
  readonly random: RandomSource;
}

// What a single task needs from its run: where it belongs, and when it must stop.
export interface TaskRun {
  readonly runId: string;
  readonly signal: AbortSignal;
  readonly deadline: number;
  // The attempt at the run this task belongs to (queue mode).
  readonly attempt?: string;
}

export interface EngineRun extends TaskRun {
  readonly definition: WorkflowDefinition;
  // Tasks that finished in an earlier attempt (resume): their outputs are reused, they are not run again.
  readonly finished: readonly TaskRecord[];
}

export interface EngineResult {
  readonly outputs: Record<string, string>;
  readonly usage: RunUsage;
}

const workerPrompt =
  "You are one specialist worker in a multi-step AI workflow. Do exactly the task you are given, completely " +
  "and concretely; your output is passed on to later steps as it is, so write the deliverable itself without " +
  "preamble or questions back.";

// Runs a validated workflow: stages in order, a linear stage's tasks at the same time, an inline stage's
// one after another. Every task's start and result is stored as it happens, so nothing finished is lost.
export class WorkflowEngine {
  readonly #deps: EngineDeps;

  constructor(deps: EngineDeps) {
    this.#deps = deps;
  }

  async execute(run: EngineRun): Promise<EngineResult> {
    const values: Record<string, string> = { ...run.definition.variables };
    const outputs: Record<string, string> = {};
    let usage: RunUsage = { promptTokens: 0, completionTokens: 0, costUsd: 0 };
    const done = new Map(
      run.finished.filter((t) => t.status === "completed").map((t) => [`${t.stage}:${t.index}`, t]),
    );
    const record = (name: string, output: string, spent: RunUsage | null) => {
      values[name] = output;
      outputs[name] = output;
      if (spent) usage = addUsage(usage, spent);
    };

    for (const [stageIndex, stage] of run.definition.stages.entries()) {
      const pending: Array<[number, WorkflowTask]> = [];
      for (const [taskIndex, task] of stage.tasks.entries()) {
        const previous = done.get(`${stageIndex}:${taskIndex}`);
        if (previous?.output != null) record(task.output_variable, previous.output, previous.usage);
        else pending.push([taskIndex, task]);
      }
      if (stage.type === "linear") {
        const settled = await Promise.allSettled(
          pending.map(([taskIndex, task]) => this.runTask(run, stageIndex, taskIndex, task, values)),
        );
        // Siblings that succeeded are kept (and stored) even when another failed.
        settled.forEach((outcome, i) => {
          const task = pending[i]?.[1];
          if (outcome.status === "fulfilled" && task)
            record(task.output_variable, outcome.value.output, outcome.value.usage);
        });
        const failure = settled.find((outcome) => outcome.status === "rejected");
        if (failure) throw failure.reason;
      } else {
        for (const [taskIndex, task] of pending) {
          const result = await this.runTask(run, stageIndex, taskIndex, task, values);
          record(task.output_variable, result.output, result.usage);
        }
      }
    }
    return { outputs, usage };
  }

  // Runs one task and stores its start and its result (or failure) as they happen. Also the entry point of
  // a queue worker, which runs the tasks of one workflow on several processes.
  async runTask(
    run: TaskRun,
    stage: number,
    index: number,
    task: WorkflowTask,
    values: Readonly<Record<string, string>>,
  ): Promise<{ output: string; usage: RunUsage }> {
    const { models, store, events, clock } = this.#deps;
    run.signal.throwIfAborted();
    const resolved = models.resolve(task.model);
    const base = {
      runId: run.runId,
      stage,
      index,
      role: resolved.role,
      model: resolved.definition.model,
      outputVariable: task.output_variable,
      worker: this.#deps.workerId,
      ...(run.attempt === undefined ? {} : { attempt: run.attempt }),
    };
    const startedAt = clock.isoNow();
    await store.saveTask({
      ...base,
      status: "running",
      output: null,
      error: null,
      usage: null,
      startedAt,
      finishedAt: null,
    });
    events.emit({
      type: "task_started",
      workflowId: run.runId,
      stage,
      index,
      role: base.role,
      model: base.model,
      at: startedAt,
    });
    try {
      const prompt = this.#fillIn(task, values, stage, index);
      const result = await this.#withTaskRetries(run, stage, index, () =>
        resolved.definition.kind === "chat"
          ? this.#chatTask(run, task, prompt)
          : this.#mediaTask(run, task, prompt),
      );
      const finishedAt = clock.isoNow();
      await store.saveTask({
        ...base,
        model: result.model,
        status: "completed",
        output: result.output,
        error: null,
        usage: result.usage,
        startedAt,
        finishedAt,
      });
      events.emit({
        type: "task_completed",
        workflowId: run.runId,
        stage,
        index,
        outputVariable: task.output_variable,
        usage: result.usage,
        at: finishedAt,
      });
      return result;
    } catch (raw) {
      const error = run.signal.aborted ? abortReason(run.signal, raw) : toOrchestratorError(raw);
      const finishedAt = clock.isoNow();
      const summary = { type: error.kind, code: error.code, message: error.message };
      const status = error.code === "cancelled" ? "cancelled" : "failed";
      await store.saveTask({
        ...base,
        status,
        output: null,
        error: summary,
        usage: null,
        startedAt,
        finishedAt,
      });
      events.emit({
        type: "task_failed",
        workflowId: run.runId,
        stage,
        index,
        error: summary,
        at: finishedAt,
      });
      throw error;
    }
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

  async #chatTask(run: TaskRun, task: WorkflowTask, prompt: string) {
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
      priority: "medium",
      signal: run.signal,
      deadline: run.deadline,
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

export function addUsage(a: RunUsage, b: RunUsage): RunUsage {
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    costUsd: a.costUsd + b.costUsd,
  };
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
