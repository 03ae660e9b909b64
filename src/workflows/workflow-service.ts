import type { Logger } from "pino";
import type { AppConfig } from "../config/index.ts";
import type { Clock } from "../core/clock.ts";
import { notFound, OrchestratorError, toOrchestratorError } from "../core/errors.ts";
import type { IdGenerator } from "../core/ids.ts";
import { runWithContextPatch } from "../core/request-context.ts";
import type { ModelClient } from "../models/model-client.ts";
import type { NewMessage, RunError, RunRecord, RunUsage, Store, TaskRecord } from "../store/store.ts";
import type { TokenCounter } from "../tokens/token-counter.ts";
import { explainFailure, writeFinalAnswer } from "./finisher.ts";
import { planWorkflow } from "./planner.ts";
import type { RunRegistry } from "./run-registry.ts";
import { assertValidWorkflow } from "./validate-workflow.ts";
import { addUsage, type WorkflowEngine } from "./workflow-engine.ts";
import type { WorkflowEvents } from "./workflow-events.ts";
import type { WorkflowDefinition } from "./workflow-schema.ts";

// Runs workflows on other processes (BullMQ workers on Redis) instead of in this one.
export interface RunQueue {
  start(id: string, deadline: number): Promise<void>;
  // Tells the workers to abort the run's running tasks; the run is already marked cancelled.
  cancel(id: string): Promise<void>;
  waitFor(id: string): Promise<void>;
}

export interface WorkflowServiceDeps {
  readonly config: AppConfig;
  readonly models: ModelClient;
  readonly store: Store;
  readonly runs: RunRegistry;
  readonly events: WorkflowEvents;
  readonly engine: WorkflowEngine;
  readonly tokens: TokenCounter;
  readonly clock: Clock;
  readonly newId: IdGenerator;
  readonly logger: Logger;
  // Set when workflows run on a queue; absent, they run in this process.
  readonly queue?: RunQueue | undefined;
}

// What an H request's run needs to be carried out (and resumed): the request and where to post the answer.
export interface OrchestrationRequest {
  readonly message: string;
  readonly category: string;
  readonly timeoutSeconds?: number;
}

export const zeroUsage: RunUsage = { promptTokens: 0, completionTokens: 0, costUsd: 0 };

// Starts, cancels and resumes workflow runs, each in the background under its id, with a deadline;
// for H requests also plans the workflow first and writes the final answer (or the failure's explanation).
// The steps (plan, complete, fail) are shared by the in-process runner and the queue workers.
export class WorkflowService {
  readonly #deps: WorkflowServiceDeps;

  constructor(deps: WorkflowServiceDeps) {
    this.#deps = deps;
  }

  // Running workflows: in this process, or in the whole cluster when they run on a queue.
  async runningCount(): Promise<number> {
    return this.#deps.queue ? this.#deps.store.countRunning() : this.#deps.runs.size;
  }

  // Past maxConcurrentWorkflows new work is refused, never queued without bound.
  async assertCapacity(): Promise<void> {
    const max = this.#deps.config.orchestration.maxConcurrentWorkflows;
    if ((await this.runningCount()) < max) return;
    throw new OrchestratorError({
      kind: "transient",
      code: "too_many_workflows",
      status: 429,
      retryAfterMs: 5_000,
      message: `${max} workflows are already running (orchestration.maxConcurrentWorkflows); try again shortly`,
    });
  }

  async submit(
    definition: WorkflowDefinition,
    // `owner`: the id of the client key submitting it (null in open mode).
    options: { timeoutSeconds?: number | undefined; owner?: string | null },
  ): Promise<string> {
    this.assertValid(definition);
    await this.assertCapacity();
    const id = this.#deps.newId();
    await this.#deps.store.createRun({
      id,
      sessionId: null,
      kind: "workflow",
      owner: options.owner ?? null,
      request: options.timeoutSeconds === undefined ? {} : { timeout_seconds: options.timeoutSeconds },
    });
    await this.#deps.store.setRunWorkflow(id, definition);
    await this.#start(id, options.timeoutSeconds, (signal, deadline) =>
      this.#runWorkflow(id, definition, [], signal, deadline),
    );
    return id;
  }

  // `checkSizes: false` skips the prompt-size limits, for templates checked with placeholder values.
  assertValid(definition: WorkflowDefinition, options: { checkSizes?: boolean } = {}): void {
    const { config, models } = this.#deps;
    const limits = options.checkSizes === false ? undefined : config.orchestration;
    assertValidWorkflow(definition, models.catalog, config.addons, limits);
  }

  // The run record (with the messages announcing it) is already stored by the chat pipeline.
  async orchestrate(runId: string, request: OrchestrationRequest): Promise<void> {
    await this.#start(runId, request.timeoutSeconds, (signal, deadline) =>
      this.#runOrchestration(runId, request, undefined, [], signal, deadline),
    );
  }

  async waitFor(id: string): Promise<void> {
    if (this.#deps.queue) await this.#deps.queue.waitFor(id);
    else await this.#deps.runs.whenDone(id);
  }

  // False when the run is not running (any more).
  async cancel(id: string): Promise<boolean> {
    const reason = new OrchestratorError({
      kind: "logical",
      code: "cancelled",
      status: 499,
      message: "the workflow was cancelled",
    });
    const { queue, store } = this.#deps;
    if (!queue) return this.#deps.runs.cancel(id, reason);
    const run = await store.getRun(id);
    if (run?.status !== "running") return false;
    if (!(await this.fail(run, reason, await this.spentSoFar(id)))) return false;
    await queue.cancel(id);
    return true;
  }

  // Continues a run that was interrupted, failed or cancelled, from its first unfinished task.
  async resume(id: string): Promise<void> {
    const run = await this.#deps.store.getRun(id);
    if (!run) throw notFound("workflow", id);
    if (run.status === "completed" || run.status === "running") {
      throw new OrchestratorError({
        kind: "logical",
        code: "not_resumable",
        status: 409,
        message: `workflow ${id} is ${run.status}; only interrupted, failed or cancelled workflows can be resumed`,
      });
    }
    await this.assertCapacity();
    const finished = (await this.#deps.store.listTasks(id)).filter((t) => t.status === "completed");
    if (!(await this.#deps.store.reopenRun(id))) return;
    const timeoutSeconds = (run.request as { timeout_seconds?: number } | null)?.timeout_seconds;
    const definition = (run.workflow ?? undefined) as WorkflowDefinition | undefined;
    if (run.kind === "chat") {
      const request = run.request as OrchestrationRequest;
      await this.#start(id, timeoutSeconds, (signal, deadline) =>
        this.#runOrchestration(id, request, definition, finished, signal, deadline),
      );
      return;
    }
    if (!definition)
      throw new OrchestratorError({
        kind: "fatal",
        code: "no_workflow",
        message: `run ${id} has no workflow`,
      });
    await this.#start(id, timeoutSeconds, (signal, deadline) =>
      this.#runWorkflow(id, definition, finished, signal, deadline),
    );
  }

  // The H request's planning step: the planner writes the workflow, which is stored with the run.
  async plan(
    run: RunRecord,
    signal: AbortSignal,
    deadline: number,
  ): Promise<{ definition: WorkflowDefinition; usage: RunUsage }> {
    const { models, config, store, events, clock } = this.#deps;
    const request = run.request as OrchestrationRequest;
    const plan = await planWorkflow(
      {
        models,
        addons: config.addons,
        role: config.orchestration.plannerRole,
        limits: config.orchestration,
      },
      request.message,
      { signal, deadline },
    );
    const usage = plan.calls.reduce((sum, call) => addUsage(sum, call.usage), zeroUsage);
    await store.setRunWorkflow(run.id, plan.definition);
    events.emit({
      type: "plan_ready",
      workflowId: run.id,
      stages: plan.definition.stages.length,
      at: clock.isoNow(),
    });
    return { definition: plan.definition, usage };
  }

  // Every task is done: a workflow is complete; an H request first gets its final answer written.
  async complete(
    run: RunRecord,
    outputs: Readonly<Record<string, string>>,
    usage: RunUsage,
    signal: AbortSignal,
    deadline: number,
  ): Promise<void> {
    if (run.kind !== "chat") {
      await this.#finish(run.id, { status: "completed", usage });
      return;
    }
    const { models, config } = this.#deps;
    const request = run.request as OrchestrationRequest;
    const answer = await writeFinalAnswer(models, config.orchestration.finishRole, request.message, outputs, {
      signal,
      deadline,
    });
    await this.#finish(
      run.id,
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
  // False when the run had already ended (say, completed while this failure was being decided).
  async fail(run: RunRecord, failure: OrchestratorError, usage: RunUsage): Promise<boolean> {
    if (run.kind !== "chat" || failure.code === "cancelled") return this.#fail(run.id, failure, usage);
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
      run.id,
      failure,
      explanation ? addUsage(usage, explanation.usage) : usage,
      text,
      await this.#announce(text, explanation?.model, explanation?.provider, request.category, run.id),
    );
  }

  async spentSoFar(id: string): Promise<RunUsage> {
    const tasks = await this.#deps.store.listTasks(id);
    return tasks.reduce((sum, task) => (task.usage ? addUsage(sum, task.usage) : sum), zeroUsage);
  }

  async #start(
    id: string,
    timeoutSeconds: number | undefined,
    inProcess: (signal: AbortSignal, deadline: number) => Promise<void>,
  ): Promise<void> {
    const timeoutMs = (timeoutSeconds ?? this.#deps.config.orchestration.defaultTimeoutSeconds) * 1000;
    if (this.#deps.queue) {
      await this.#deps.queue.start(id, this.#deps.clock.now() + timeoutMs);
      return;
    }
    // The run's upstream calls and log lines carry its workflow id, also when it runs in the background.
    // A run outlives the request that started it: its calls are bound by the run's timeout, not the request's.
    runWithContextPatch({ workflowId: id, deadline: undefined }, () =>
      this.#startInProcess(id, timeoutMs, inProcess),
    );
  }

  #startInProcess(
    id: string,
    timeoutMs: number,
    work: (signal: AbortSignal, deadline: number) => Promise<void>,
  ): void {
    const { runs, events, clock } = this.#deps;
    runs.start(id, async (cancelSignal) => {
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(timeoutError(timeoutMs)), timeoutMs);
      timer.unref();
      events.emit({ type: "workflow_started", workflowId: id, at: clock.isoNow() });
      try {
        await work(AbortSignal.any([cancelSignal, timeout.signal]), clock.now() + timeoutMs);
      } finally {
        clearTimeout(timer);
      }
    });
  }

  async #runWorkflow(
    id: string,
    definition: WorkflowDefinition,
    finished: readonly TaskRecord[],
    signal: AbortSignal,
    deadline: number,
  ): Promise<void> {
    const run = await this.#requireRun(id);
    try {
      const result = await this.#deps.engine.execute({ runId: id, definition, signal, deadline, finished });
      await this.complete(run, result.outputs, result.usage, signal, deadline);
    } catch (raw) {
      await this.fail(run, failureOf(signal, raw), await this.spentSoFar(id));
    }
  }

  async #runOrchestration(
    id: string,
    request: OrchestrationRequest,
    planned: WorkflowDefinition | undefined,
    finished: readonly TaskRecord[],
    signal: AbortSignal,
    deadline: number,
  ): Promise<void> {
    const run = { ...(await this.#requireRun(id)), request };
    let usage = zeroUsage;
    try {
      let definition = planned;
      if (!definition) {
        const plan = await this.plan(run, signal, deadline);
        usage = plan.usage;
        definition = plan.definition;
      }
      const result = await this.#deps.engine.execute({ runId: id, definition, signal, deadline, finished });
      await this.complete(run, result.outputs, addUsage(usage, result.usage), signal, deadline);
    } catch (raw) {
      await this.fail(run, failureOf(signal, raw), addUsage(usage, await this.spentSoFar(id)));
    }
  }

  async #requireRun(id: string): Promise<RunRecord> {
    const run = await this.#deps.store.getRun(id);
    if (!run) throw notFound("workflow", id);
    return run;
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
        tokens: this.#deps.tokens.estimate(content),
        category,
        workflowId,
        ...(model ? { model } : {}),
        ...(provider ? { provider } : {}),
      },
    ];
  }

  async #finish(
    id: string,
    update: { status: "completed"; result?: string; model?: string; usage: RunUsage },
    messages: readonly NewMessage[] = [],
  ): Promise<void> {
    // Nothing to announce when the run had already ended (cancelled while it was finishing).
    if (!(await this.#deps.store.finishRun(id, update, messages))) return;
    this.#deps.events.emit({
      type: "workflow_finished",
      workflowId: id,
      status: "completed",
      at: this.#deps.clock.isoNow(),
    });
  }

  async #fail(
    id: string,
    failure: OrchestratorError,
    usage: RunUsage,
    result?: string,
    messages: readonly NewMessage[] = [],
  ): Promise<boolean> {
    const status = failure.code === "cancelled" ? "cancelled" : "failed";
    const ended = await this.#deps.store
      .finishRun(id, { status, error: summary(failure), usage, ...(result ? { result } : {}) }, messages)
      .catch((error: unknown) => {
        this.#deps.logger.error({ workflowId: id, err: error }, "could not record the failure");
        return false;
      });
    if (!ended) return false;
    this.#deps.logger.warn({ workflowId: id, code: failure.code }, `workflow ${status}`);
    this.#deps.events.emit({
      type: "workflow_finished",
      workflowId: id,
      status,
      at: this.#deps.clock.isoNow(),
    });
    return true;
  }
}

// `timeoutMs` when the caller knows the run's timeout (a queue worker knows only the deadline).
export function timeoutError(timeoutMs?: number): OrchestratorError {
  return new OrchestratorError({
    kind: "resource",
    code: "workflow_timeout",
    status: 504,
    message:
      timeoutMs === undefined
        ? "the workflow did not finish within its timeout"
        : `the workflow did not finish within its ${timeoutMs / 1000} s timeout`,
  });
}

export function failureOf(signal: AbortSignal, raw: unknown): OrchestratorError {
  if (signal.aborted && OrchestratorError.isInstance(signal.reason)) return signal.reason;
  return toOrchestratorError(raw);
}

function summary(error: OrchestratorError): RunError {
  return { type: error.kind, code: error.code, message: error.message };
}
