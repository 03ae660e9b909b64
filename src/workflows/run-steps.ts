import type { Logger } from "pino";
import type { AppConfig } from "../config/index.ts";
import type { Clock } from "../core/clock.ts";
import { OrchestratorError } from "../core/errors.ts";
import { addUsage, sumUsage, type Usage } from "../core/usage.ts";
import type { ModelClient } from "../models/model-client.ts";
import type { HeldSlot } from "../resilience/held-slot.ts";
import type { NewMessage, RunError, RunRecord, Store, TaskRecord } from "../store/store.ts";
import type { TokenCounter } from "../tokens/token-counter.ts";
import { estimateWorkflowCostUsd } from "./estimate-cost.ts";
import { explainFailure, writeFinalAnswer } from "./finisher.ts";
import { planWorkflow } from "./planner.ts";
import { type TaskDescriptor, taskValues, usageOfTasks } from "./run-rules.ts";
import type { TaskEnd, TaskToRun, WorkflowEngine } from "./workflow-engine.ts";
import type { WorkflowEvents } from "./workflow-events.ts";
import type { WorkflowDefinition } from "./workflow-schema.ts";

export interface RunStepsDeps {
  readonly config: AppConfig;
  readonly models: ModelClient;
  readonly store: Store;
  readonly events: WorkflowEvents;
  readonly engine: WorkflowEngine;
  readonly tokens: TokenCounter;
  readonly clock: Clock;
  readonly logger: Logger;
}

// What an H request's run needs to be carried out (and resumed): the request and where to post the answer.
export interface OrchestrationRequest {
  readonly message: string;
  readonly category: string;
  readonly timeoutSeconds?: number;
}

// Where a task step runs: the run's signal (cancellation, deadline) in this process.
export interface StepContext {
  readonly signal: AbortSignal;
  readonly deadline: number;
}

// The steps of a run that the rules decide on (plan, run a task, complete, fail), the same for every
// executor. Every write carries the run's attempt: a process that lost the run writes nothing.
export class RunSteps {
  readonly #deps: RunStepsDeps;

  constructor(deps: RunStepsDeps) {
    this.#deps = deps;
  }

  // The H request's planning step: the planner writes the workflow, which is stored with the run.
  async plan(run: RunRecord, context: StepContext): Promise<Usage> {
    const { models, config, store, events, clock } = this.#deps;
    const request = run.request as OrchestrationRequest;
    const plan = await planWorkflow(
      {
        models,
        addons: config.addons,
        role: config.orchestration.plannerRole,
        limits: config.orchestration,
        maxTasks: config.orchestration.planner.maxTasks,
        maxRunCostUsd: config.orchestration.maxRunCostUsd,
        videoSeconds: config.providers.google_ai.videoSeconds,
      },
      request.message,
      context,
    );
    if (!(await store.setRunWorkflow(run.id, plan.definition, run.attempt))) throw superseded(run.id);
    await store.setRunEstimate(
      run.id,
      estimateWorkflowCostUsd(plan.definition, models.catalog, config.providers.google_ai.videoSeconds),
    );
    events.emit({
      type: "plan_ready",
      workflowId: run.id,
      stages: plan.definition.stages.length,
      at: clock.isoNow(),
    });
    return sumUsage(plan.calls.map((call) => call.usage));
  }

  // Runs one task; its start and its result are stored (fenced by the attempt) as they happen. Rejects
  // with the task's error when it failed (its failure is stored).
  async runTask(task: TaskDescriptor, context: StepContext): Promise<void> {
    const { store } = this.#deps;
    const [run, tasks] = await Promise.all([store.getRun(task.runId), store.listTasks(task.runId)]);
    if (!run) return;
    const [end] = await Promise.all(this.runTasks([task], context, { run, tasks }));
    if (!end) return;
    await end.stored;
    if (end.error) throw end.error;
  }

  // Runs tasks of one run that start together, their starts stored in one write; `known` is the run as the
  // caller knows it (the in-process executor keeps it between steps), saving a read. One promise per task,
  // in order: how it ended, or undefined when it did not run (the run is not running in this attempt, the
  // task had already completed, or its start was refused). `slots`, in the same order, are those the tasks
  // were granted while queued (see firstModelOf).
  runTasks(
    descriptors: readonly TaskDescriptor[],
    context: StepContext,
    known: { readonly run: RunRecord; readonly tasks: readonly TaskRecord[] },
    slots: readonly (HeldSlot | undefined)[] = [],
  ): Promise<TaskEnd | undefined>[] {
    const { run, tasks } = known;
    const toRun: { descriptor: TaskDescriptor; item: TaskToRun }[] = [];
    const outcomes = descriptors.map((task, position) => {
      if (run.status !== "running" || run.attempt !== task.attempt || run.id !== task.runId)
        return Promise.resolve(undefined);
      // Exactly once from the user's view: a finished task is never run again.
      if (tasks.some((t) => t.stage === task.stage && t.index === task.index && t.status === "completed"))
        return Promise.resolve(undefined);
      const definition = run.workflow as WorkflowDefinition;
      const step = definition.stages[task.stage]?.tasks[task.index];
      if (!step)
        return Promise.reject(new Error(`run ${task.runId} has no task ${task.stage}.${task.index}`));
      toRun.push({
        descriptor: task,
        item: {
          stage: task.stage,
          index: task.index,
          task: step,
          values: taskValues(definition, tasks),
          slot: slots[position],
        },
      });
      return undefined;
    });
    const first = toRun[0]?.descriptor;
    const running = first
      ? this.#deps.engine.runTasks(
          { runId: first.runId, attempt: first.attempt, signal: context.signal, deadline: context.deadline },
          toRun.map(({ item }) => item),
        )
      : [];
    let next = 0;
    return outcomes.map((outcome) => outcome ?? running[next++] ?? Promise.resolve(undefined));
  }

  // The model a task's first call goes to, when it is a chat task: an executor may queue the task for a slot
  // of that model and start it only once granted one. Undefined for media tasks and unknown roles (they
  // start at once, and an unknown role fails its task there).
  firstModelOf(run: RunRecord, task: TaskDescriptor): string | undefined {
    const step = (run.workflow as WorkflowDefinition | null)?.stages[task.stage]?.tasks[task.index];
    if (!step) return undefined;
    try {
      const { definition } = this.#deps.models.resolve(step.model);
      return definition.kind === "chat" ? definition.model : undefined;
    } catch {
      return undefined;
    }
  }

  // Every task is done: a workflow is complete; an H request first gets its final answer written.
  async complete(
    run: RunRecord,
    outputs: Readonly<Record<string, string>>,
    usage: Usage,
    context: StepContext,
  ): Promise<void> {
    if (run.kind !== "chat") {
      await this.#finish(run, { status: "completed", usage });
      return;
    }
    const { models, config } = this.#deps;
    const request = run.request as OrchestrationRequest;
    const answer = await writeFinalAnswer(
      models,
      config.orchestration.finishRole,
      request.message,
      outputs,
      context,
    );
    await this.#finish(
      run,
      {
        status: "completed",
        result: answer.content,
        model: answer.model,
        usage: addUsage(usage, answer.usage),
      },
      await this.#announce(answer.content, answer.model, answer.provider, request.category, run.id),
    );
  }

  // The run failed (or was cancelled or timed out). An H request's user is told, by the "workers failed"
  // model, what happened and what did finish; if even that fails, the error speaks for itself.
  // False when the run had already ended (say, completed while this failure was being decided) or
  // another attempt has taken it over.
  async fail(run: RunRecord, failure: OrchestratorError, usage: Usage): Promise<boolean> {
    if (run.kind !== "chat" || failure.code === "cancelled") return this.#fail(run, failure, usage);
    const { models, config, store, clock } = this.#deps;
    const request = run.request as OrchestrationRequest;
    const completed = (await store.listTasks(run.id))
      .filter((t) => t.status === "completed")
      .map((t) => t.outputVariable);
    const explanation = await explainFailure(
      models,
      config.orchestration.failureRole,
      request.message,
      summary(failure),
      completed,
      { deadline: clock.now() + config.errorHandling.requestTimeoutMs },
    ).catch(() => undefined);
    const text = explanation?.content ?? `The work on your request failed: ${failure.message}`;
    return this.#fail(
      run,
      failure,
      explanation ? addUsage(usage, explanation.usage) : usage,
      text,
      await this.#announce(text, explanation?.model, explanation?.provider, request.category, run.id),
    );
  }

  async spentSoFar(id: string): Promise<Usage> {
    const tasks = await this.#deps.store.listTasks(id);
    return usageOfTasks(tasks);
  }

  async #announce(
    content: string,
    model: string | undefined,
    provider: string | undefined,
    category: string,
    workflowId: string,
  ): Promise<NewMessage[]> {
    return [
      {
        role: "assistant",
        content,
        tokens: await this.#deps.tokens.count(content),
        category,
        workflowId,
        ...(model ? { model } : {}),
        ...(provider ? { provider } : {}),
      },
    ];
  }

  async #finish(
    run: RunRecord,
    update: { status: "completed"; result?: string; model?: string; usage: Usage },
    messages: readonly NewMessage[] = [],
  ): Promise<void> {
    // Nothing to announce when the run had already ended (cancelled while it was finishing).
    if (!(await this.#deps.store.finishRun(run.id, update, messages, run.attempt))) return;
    this.#deps.events.emit({
      type: "workflow_finished",
      workflowId: run.id,
      status: "completed",
      at: this.#deps.clock.isoNow(),
    });
  }

  async #fail(
    run: RunRecord,
    failure: OrchestratorError,
    usage: Usage,
    result?: string,
    messages: readonly NewMessage[] = [],
  ): Promise<boolean> {
    const status = failure.code === "cancelled" ? "cancelled" : "failed";
    const ended = await this.#deps.store
      .finishRun(
        run.id,
        { status, error: summary(failure), usage, ...(result ? { result } : {}) },
        messages,
        run.attempt,
      )
      .catch((error: unknown) => {
        this.#deps.logger.error({ workflowId: run.id, err: error }, "could not record the failure");
        return false;
      });
    if (!ended) return false;
    this.#deps.logger.warn({ workflowId: run.id, code: failure.code }, `workflow ${status}`);
    this.#deps.events.emit({
      type: "workflow_finished",
      workflowId: run.id,
      status,
      at: this.#deps.clock.isoNow(),
    });
    return true;
  }
}

// Another attempt took the run over (this process was cut off for longer than its lease): stand down.
export function superseded(runId: string): OrchestratorError {
  return new OrchestratorError({
    kind: "logical",
    code: "superseded",
    message: `run ${runId} is driven by another attempt`,
  });
}

function summary(error: OrchestratorError): RunError {
  return { type: error.kind, code: error.code, message: error.message };
}
