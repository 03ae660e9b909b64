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
}

// What an H request's run needs to be carried out (and resumed): the request and where to post the answer.
export interface OrchestrationRequest {
  readonly message: string;
  readonly category: string;
  readonly timeoutSeconds?: number;
}

const zeroUsage: RunUsage = { promptTokens: 0, completionTokens: 0, costUsd: 0 };

// Starts, cancels and resumes workflow runs, each in the background under its id, with a deadline;
// for H requests also plans the workflow first and writes the final answer (or the failure's explanation).
export class WorkflowService {
  readonly #deps: WorkflowServiceDeps;

  constructor(deps: WorkflowServiceDeps) {
    this.#deps = deps;
  }

  // Past maxConcurrentWorkflows new work is refused, never queued without bound.
  assertCapacity(): void {
    const max = this.#deps.config.orchestration.maxConcurrentWorkflows;
    if (this.#deps.runs.size < max) return;
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
    options: { timeoutSeconds?: number | undefined },
  ): Promise<string> {
    this.assertValid(definition);
    this.assertCapacity();
    const id = this.#deps.newId();
    await this.#deps.store.createRun({
      id,
      sessionId: null,
      kind: "workflow",
      request: options.timeoutSeconds === undefined ? {} : { timeout_seconds: options.timeoutSeconds },
    });
    await this.#deps.store.setRunWorkflow(id, definition);
    this.#launch(id, options.timeoutSeconds, (signal, deadline) =>
      this.#runWorkflow(id, definition, [], signal, deadline),
    );
    return id;
  }

  assertValid(definition: WorkflowDefinition): void {
    assertValidWorkflow(definition, this.#deps.models.catalog, this.#deps.config.addons);
  }

  // The run record (with the messages announcing it) is already stored by the chat pipeline.
  orchestrate(runId: string, request: OrchestrationRequest): void {
    this.#launch(runId, request.timeoutSeconds, (signal, deadline) =>
      this.#runOrchestration(runId, request, undefined, [], signal, deadline),
    );
  }

  async waitFor(id: string): Promise<void> {
    await this.#deps.runs.whenDone(id);
  }

  cancel(id: string): boolean {
    return this.#deps.runs.cancel(
      id,
      new OrchestratorError({
        kind: "logical",
        code: "cancelled",
        status: 499,
        message: "the workflow was cancelled",
      }),
    );
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
    this.assertCapacity();
    const finished = (await this.#deps.store.listTasks(id)).filter((t) => t.status === "completed");
    if (!(await this.#deps.store.reopenRun(id))) return;
    const timeoutSeconds = (run.request as { timeout_seconds?: number } | null)?.timeout_seconds;
    const definition = (run.workflow ?? undefined) as WorkflowDefinition | undefined;
    if (run.kind === "chat") {
      const request = run.request as OrchestrationRequest;
      this.#launch(id, timeoutSeconds, (signal, deadline) =>
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
    this.#launch(id, timeoutSeconds, (signal, deadline) =>
      this.#runWorkflow(id, definition, finished, signal, deadline),
    );
  }

  #launch(
    id: string,
    timeoutSeconds: number | undefined,
    work: (signal: AbortSignal, deadline: number) => Promise<void>,
  ): void {
    const timeoutMs = (timeoutSeconds ?? this.#deps.config.orchestration.defaultTimeoutSeconds) * 1000;
    // The run's upstream calls and log lines carry its workflow id, also when it runs in the background.
    runWithContextPatch({ workflowId: id }, () => this.#startRun(id, timeoutMs, work));
  }

  #startRun(
    id: string,
    timeoutMs: number,
    work: (signal: AbortSignal, deadline: number) => Promise<void>,
  ): void {
    const { runs, events, clock } = this.#deps;
    runs.start(id, async (cancelSignal) => {
      const timeout = new AbortController();
      const timer = setTimeout(
        () =>
          timeout.abort(
            new OrchestratorError({
              kind: "resource",
              code: "workflow_timeout",
              status: 504,
              message: `the workflow did not finish within its ${timeoutMs / 1000} s timeout`,
            }),
          ),
        timeoutMs,
      );
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
    try {
      const result = await this.#deps.engine.execute({ runId: id, definition, signal, deadline, finished });
      await this.#finish(id, { status: "completed", usage: result.usage });
    } catch (raw) {
      await this.#fail(id, failureOf(signal, raw), await this.#spentSoFar(id));
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
    const { models, config, store, events, clock } = this.#deps;
    let usage = zeroUsage;
    try {
      let definition = planned;
      if (!definition) {
        const plan = await planWorkflow(
          { models, addons: config.addons, role: config.orchestration.plannerRole },
          request.message,
          { signal, deadline },
        );
        for (const call of plan.calls) usage = addUsage(usage, call.usage);
        definition = plan.definition;
        await store.setRunWorkflow(id, definition);
        events.emit({
          type: "plan_ready",
          workflowId: id,
          stages: definition.stages.length,
          at: clock.isoNow(),
        });
      }
      const result = await this.#deps.engine.execute({ runId: id, definition, signal, deadline, finished });
      usage = addUsage(usage, result.usage);
      const answer = await writeFinalAnswer(
        models,
        config.orchestration.finishRole,
        request.message,
        result.outputs,
        {
          signal,
          deadline,
        },
      );
      usage = addUsage(usage, answer.usage);
      await this.#finish(
        id,
        { status: "completed", result: answer.content, model: answer.model, usage },
        await this.#announce(answer.content, answer.model, answer.provider, request.category, id),
      );
    } catch (raw) {
      const failure = failureOf(signal, raw);
      const spent = addUsage(usage, await this.#spentSoFar(id));
      if (failure.code === "cancelled") {
        await this.#fail(id, failure, spent);
        return;
      }
      // The "workers failed" model tells the user what happened; if even that fails, the error speaks for itself.
      const completed = (await store.listTasks(id))
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
      await this.#fail(
        id,
        failure,
        explanation ? addUsage(spent, explanation.usage) : spent,
        text,
        await this.#announce(text, explanation?.model, explanation?.provider, request.category, id),
      );
    }
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

  async #spentSoFar(id: string): Promise<RunUsage> {
    const tasks = await this.#deps.store.listTasks(id);
    return tasks.reduce((sum, task) => (task.usage ? addUsage(sum, task.usage) : sum), zeroUsage);
  }

  async #finish(
    id: string,
    update: { status: "completed"; result?: string; model?: string; usage: RunUsage },
    messages: readonly NewMessage[] = [],
  ): Promise<void> {
    await this.#deps.store.finishRun(id, update, messages);
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
  ): Promise<void> {
    const status = failure.code === "cancelled" ? "cancelled" : "failed";
    this.#deps.logger.warn({ workflowId: id, code: failure.code }, `workflow ${status}`);
    await this.#deps.store
      .finishRun(id, { status, error: summary(failure), usage, ...(result ? { result } : {}) }, messages)
      .catch((error: unknown) =>
        this.#deps.logger.error({ workflowId: id, err: error }, "could not record the failure"),
      );
    this.#deps.events.emit({
      type: "workflow_finished",
      workflowId: id,
      status,
      at: this.#deps.clock.isoNow(),
    });
  }
}

function failureOf(signal: AbortSignal, raw: unknown): OrchestratorError {
  if (signal.aborted && OrchestratorError.isInstance(signal.reason)) return signal.reason;
  return toOrchestratorError(raw);
}

function summary(error: OrchestratorError): RunError {
  return { type: error.kind, code: error.code, message: error.message };
}

export function isTerminal(run: RunRecord): boolean {
  return run.status !== "running";
}
