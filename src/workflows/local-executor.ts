import type { Logger } from "pino";
import type { Clock } from "../core/clock.ts";
import { OrchestratorError, toOrchestratorError } from "../core/errors.ts";
import { runWithContextPatch } from "../core/request-context.ts";
import type { RunRecord, RunUsage, Store, TaskRecord } from "../store/store.ts";
import { newAttempt, type RunExecutor, type RunStart } from "./run-executor.ts";
import {
  addUsage,
  cancelledError,
  failureOf,
  nextStep,
  type TaskDescriptor,
  taskKey,
  timeoutError,
  zeroUsage,
} from "./run-rules.ts";
import type { RunSteps, StepContext } from "./run-steps.ts";
import type { WorkflowEvents } from "./workflow-events.ts";

export interface LocalExecutorDeps {
  readonly store: Store;
  readonly steps: RunSteps;
  readonly events: WorkflowEvents;
  readonly clock: Clock;
  readonly logger: Logger;
  // This process instance: the owner of the leases it holds.
  readonly leaseOwner: string;
  // How long a lease lasts without renewal; renewed every third of it while the process lives.
  readonly leaseMs: number;
}

// One run driven by this process.
interface LocalRun {
  readonly attempt: string;
  readonly controller: AbortController;
  // Tasks started and not yet ended (their "running" record may not be written yet).
  readonly inFlight: Set<string>;
  // The last error a task ended with, in case its failure could not be stored.
  lastError: OrchestratorError | undefined;
  // Something changed (a task ended, the run was aborted): the rules are asked again.
  changed: boolean;
  wake: () => void;
  done: Promise<void>;
}

// The reason runs are stopped at shutdown: they are left running, with their lease released, so the next
// process (or another replica) resumes them at once.
const shutdown = new OrchestratorError({
  kind: "transient",
  code: "shutting_down",
  message: "the process is shutting down; the workflow resumes on the next one",
});

// Runs workflows in this process. Each run is a small loop: ask the rules what is next, carry it out
// (tasks are handed out as descriptors and start at once), wait until something changes, ask again.
// While the process lives it renews the leases of its runs; if it dies, another process recovers them.
export class LocalExecutor implements RunExecutor {
  readonly #deps: LocalExecutorDeps;
  readonly #runs = new Map<string, LocalRun>();
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(deps: LocalExecutorDeps) {
    this.#deps = deps;
  }

  async start(request: RunStart): Promise<boolean> {
    const { store, clock, leaseOwner, leaseMs, events } = this.#deps;
    if (this.#runs.has(request.id)) return false;
    const now = clock.now();
    const attempt = newAttempt(now);
    const claimed = await store.claimRun(request.id, {
      attempt,
      expectedAttempt: request.expectedAttempt,
      leaseOwner,
      leaseExpiresAt: new Date(now + leaseMs).toISOString(),
      ...(request.recovering ? { recoveringAt: new Date(now).toISOString() } : {}),
    });
    if (!claimed) return false;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(timeoutError(request.timeoutMs)), request.timeoutMs);
    timer.unref();
    const run: LocalRun = {
      attempt,
      controller,
      inFlight: new Set(),
      lastError: undefined,
      changed: false,
      wake: () => undefined,
      done: Promise.resolve(),
    };
    controller.signal.addEventListener("abort", () => this.#notify(run), { once: true });
    this.#runs.set(request.id, run);
    this.#startHeartbeat();
    events.emit({ type: "workflow_started", workflowId: request.id, at: clock.isoNow() });
    // The run's upstream calls and log lines carry its workflow id, also when it runs in the background.
    // A run outlives the request that started it: its calls are bound by the run's timeout, not the request's.
    run.done = runWithContextPatch({ workflowId: request.id, deadline: undefined }, () =>
      this.#drive(request.id, run, now + request.timeoutMs, request.timeoutMs),
    )
      .catch((error: unknown) =>
        this.#deps.logger.error({ workflowId: request.id, err: error }, "workflow could not be driven on"),
      )
      .finally(() => {
        clearTimeout(timer);
        this.#runs.delete(request.id);
        if (this.#runs.size === 0) this.#stopHeartbeat();
      });
    return true;
  }

  async cancel(id: string): Promise<void> {
    const run = this.#runs.get(id);
    run?.controller.abort(cancelledError());
  }

  async waitFor(id: string): Promise<void> {
    await this.#runs.get(id)?.done;
  }

  async runningCount(): Promise<number> {
    return this.#runs.size;
  }

  // A lease of this process's that expired while the process lives means it lost the run (it was cut off
  // for longer than the lease): the run is recovered like any other.
  async stillDriven(): Promise<boolean> {
    return false;
  }

  async close(graceMs: number): Promise<void> {
    const idle = (async () => {
      while (this.#runs.size > 0) await Promise.all([...this.#runs.values()].map((run) => run.done));
    })();
    const inTime = await Promise.race([
      idle.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), graceMs).unref()),
    ]);
    if (inTime) return;
    for (const run of this.#runs.values()) run.controller.abort(shutdown);
    await idle;
  }

  async #drive(id: string, local: LocalRun, deadline: number, timeoutMs: number): Promise<void> {
    const { store, steps } = this.#deps;
    const context: StepContext = { signal: local.controller.signal, deadline };
    let planUsage = zeroUsage;
    for (;;) {
      local.changed = false;
      const [run, tasks] = await Promise.all([store.getRun(id), store.listTasks(id)]);
      // Ended (cancelled, say), or taken over by another attempt: stand down, stopping what is in flight.
      if (run?.status !== "running" || run.attempt !== local.attempt) {
        local.controller.abort(local.controller.signal.reason ?? shutdown);
        await this.#settle(local);
        return;
      }
      const signal = local.controller.signal;
      // Past the deadline the run has timed out, whatever a task failed with on the way (its call's own
      // deadline may have fired a moment before the run's timer).
      if (!signal.aborted && this.#deps.clock.now() >= deadline)
        local.controller.abort(timeoutError(timeoutMs));
      if (signal.aborted) {
        await this.#stop(run, local, undefined, planUsage);
        return;
      }
      const step = nextStep(run, tasks, local.inFlight);
      try {
        switch (step.kind) {
          case "plan":
            planUsage = await steps.plan(run, context);
            continue;
          case "complete":
            await steps.complete(run, step.outputs, addUsage(planUsage, step.usage), context);
            return;
          case "fail":
            await this.#fail(run, step.error, planUsage);
            return;
          case "start":
            this.#dispatch(step.tasks, context, local, run, tasks);
            break;
          case "wait":
            // Nothing in flight and nothing to start: a task ended without its result being stored.
            if (local.inFlight.size === 0) {
              await this.#fail(run, local.lastError ?? stuck(id), planUsage);
              return;
            }
            break;
        }
      } catch (raw) {
        await this.#stop(run, local, raw, planUsage);
        return;
      }
      await this.#changed(local);
    }
  }

  // Task descriptors are granted a slot and started together (their starts stored in one write); the run
  // hears when each ends.
  #dispatch(
    descriptors: readonly TaskDescriptor[],
    context: StepContext,
    local: LocalRun,
    run: RunRecord,
    tasks: readonly TaskRecord[],
  ) {
    for (const task of descriptors) local.inFlight.add(taskKey(task));
    const running = this.#deps.steps.runTasks(descriptors, context, { run, tasks });
    descriptors.forEach((task, position) => {
      (running[position] ?? Promise.resolve())
        .catch((error: unknown) => {
          local.lastError = toOrchestratorError(error);
        })
        .finally(() => {
          local.inFlight.delete(taskKey(task));
          this.#notify(local);
        });
    });
  }

  // The run stops: its tasks end first (storing how they ended, so what finished is kept); then it fails,
  // unless the process is shutting down, in which case its lease is released for the next process.
  async #stop(run: RunRecord, local: LocalRun, raw: unknown, planUsage: RunUsage): Promise<void> {
    const signal = local.controller.signal;
    if (raw !== undefined && !signal.aborted) local.controller.abort(toOrchestratorError(raw));
    await this.#settle(local);
    if (signal.reason === shutdown) {
      await this.#deps.store.releaseLeases(this.#deps.leaseOwner, [run.id]);
      return;
    }
    await this.#fail(run, failureOf(signal, raw), planUsage);
  }

  async #fail(run: RunRecord, failure: OrchestratorError, planUsage: RunUsage) {
    const spent = addUsage(planUsage, await this.#deps.steps.spentSoFar(run.id));
    await this.#deps.steps.fail(run, failure, spent);
  }

  async #settle(local: LocalRun): Promise<void> {
    while (local.inFlight.size > 0) await this.#changed(local);
  }

  async #changed(local: LocalRun): Promise<void> {
    while (!local.changed) {
      await new Promise<void>((resolve) => {
        local.wake = resolve;
      });
    }
    local.changed = false;
  }

  #notify(local: LocalRun): void {
    local.changed = true;
    local.wake();
  }

  #startHeartbeat(): void {
    if (this.#heartbeat) return;
    const { store, clock, leaseOwner, leaseMs, logger } = this.#deps;
    this.#heartbeat = setInterval(() => {
      const ids = [...this.#runs.keys()];
      store
        .renewLeases(leaseOwner, new Date(clock.now() + leaseMs).toISOString(), ids)
        .catch((error: unknown) =>
          logger.warn({ err: error }, "could not renew the leases of running workflows"),
        );
    }, leaseMs / 3);
    this.#heartbeat.unref();
  }

  #stopHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }
}

function stuck(runId: string): OrchestratorError {
  return new OrchestratorError({
    kind: "fatal",
    code: "workflow_stuck",
    message: `run ${runId} made no progress: a task ended without a result`,
  });
}
