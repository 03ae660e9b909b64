import type { AppConfig } from "../config/index.ts";
import { notFound, OrchestratorError } from "../core/errors.ts";
import type { IdGenerator } from "../core/ids.ts";
import { currentContext } from "../core/request-context.ts";
import type { ModelClient } from "../models/model-client.ts";
import type { RunRecord, Store } from "../store/store.ts";
import { estimateWorkflowCostUsd } from "./estimate-cost.ts";
import { type RunExecutor, runTimeoutMs } from "./run-executor.ts";
import { cancelledError } from "./run-rules.ts";
import type { OrchestrationRequest, RunSteps } from "./run-steps.ts";
import { assertValidWorkflow } from "./validate-workflow.ts";
import type { WorkflowDefinition } from "./workflow-schema.ts";

export interface WorkflowServiceDeps {
  readonly config: AppConfig;
  readonly models: ModelClient;
  readonly store: Store;
  readonly steps: RunSteps;
  // In this process, or on a queue for workers.
  readonly executor: RunExecutor;
  readonly newId: IdGenerator;
}

// Starts, cancels and resumes workflow runs, each in the background under its id, with a deadline. The
// executor carries them out (in this process, or on queue workers) by the same run rules and steps.
export class WorkflowService {
  readonly #deps: WorkflowServiceDeps;

  constructor(deps: WorkflowServiceDeps) {
    this.#deps = deps;
  }

  // Running workflows: in this process, or in the whole cluster when they run on a queue.
  async runningCount(): Promise<number> {
    return this.#deps.executor.runningCount();
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
  ): Promise<{ id: string; estimateUsd: number }> {
    this.assertValid(definition);
    const estimateUsd = this.#assertAffordable(definition);
    await this.assertCapacity();
    const id = this.#deps.newId();
    const claim = this.#deps.executor.claimForNewRun();
    const created = await this.#deps.store.createRun({
      id,
      sessionId: null,
      kind: "workflow",
      owner: options.owner ?? null,
      request: options.timeoutSeconds === undefined ? {} : { timeout_seconds: options.timeoutSeconds },
      workflow: definition,
      estimateUsd,
      ...(claim ? { claim } : {}),
    });
    await this.#start(id, null, {
      timeoutSeconds: options.timeoutSeconds,
      created: claim && created,
      owner: created.owner,
    });
    return { id, estimateUsd };
  }

  // Refuses, before any call, a workflow estimated to cost more than orchestration.maxRunCostUsd.
  #assertAffordable(definition: WorkflowDefinition): number {
    const { models, config } = this.#deps;
    const videoSeconds = config.providers.google_ai.videoSeconds;
    const estimateUsd = estimateWorkflowCostUsd(definition, models.catalog, videoSeconds);
    const cap = config.orchestration.maxRunCostUsd;
    if (cap > 0 && estimateUsd > cap) {
      throw new OrchestratorError({
        kind: "persistent",
        code: "estimate_over_cap",
        status: 402,
        retryable: false,
        message: `this workflow is estimated to cost $${estimateUsd.toFixed(2)}, more than orchestration.maxRunCostUsd ($${cap}); use fewer or cheaper tasks`,
        details: { estimate_usd: Math.round(estimateUsd * 1e6) / 1e6, max_run_cost_usd: cap },
      });
    }
    return estimateUsd;
  }

  // `checkSizes: false` skips the prompt-size limits, for templates checked with placeholder values.
  assertValid(definition: WorkflowDefinition, options: { checkSizes?: boolean } = {}): void {
    const { config, models } = this.#deps;
    const limits = options.checkSizes === false ? undefined : config.orchestration;
    assertValidWorkflow(definition, models.catalog, config.addons, limits);
  }

  // The run record (with the messages announcing it and its owner) is already stored by the chat pipeline.
  async orchestrate(runId: string, request: OrchestrationRequest, owner: string | null): Promise<void> {
    await this.#start(runId, null, { timeoutSeconds: request.timeoutSeconds, owner });
  }

  async waitFor(id: string): Promise<void> {
    await this.#deps.executor.waitFor(id);
  }

  // False when the run is not running (any more). The store says first, so the run ends even if the
  // process running it does not hear the cancellation; then its work in flight is stopped.
  async cancel(id: string): Promise<boolean> {
    const { store, steps, executor } = this.#deps;
    const run = await store.getRun(id);
    if (run?.status !== "running") return false;
    if (!(await steps.fail(run, cancelledError(), await steps.spentSoFar(id)))) return false;
    await executor.cancel(id);
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
    if (run.kind !== "chat" && !run.workflow)
      throw new OrchestratorError({
        kind: "fatal",
        code: "no_workflow",
        message: `run ${id} has no workflow`,
      });
    await this.assertCapacity();
    if (!(await this.#deps.store.reopenRun(id))) return;
    await this.#start(id, run.attempt, { run, owner: run.owner });
  }

  // The run's timeout comes from the stored run when resuming one (`run`), else from the request. `created`:
  // the run as just stored with the executor's claim (see RunExecutor.claimForNewRun).
  async #start(
    id: string,
    expectedAttempt: string | null,
    known: {
      timeoutSeconds?: number | undefined;
      run?: RunRecord;
      created?: RunRecord | undefined;
      owner: string | null;
    },
  ): Promise<void> {
    const defaultSeconds = this.#deps.config.orchestration.defaultTimeoutSeconds;
    const timeoutMs = known.run
      ? runTimeoutMs(known.run, defaultSeconds)
      : (known.timeoutSeconds ?? defaultSeconds) * 1000;
    const created = known.created;
    // The request log row names the run, so GET /requests/{id} leads to it.
    const context = currentContext();
    if (context) context.startedWorkflowId = id;
    await this.#deps.executor.start({
      id,
      expectedAttempt,
      timeoutMs,
      owner: known.owner,
      ...(created ? { created } : {}),
    });
  }
}
