import type { Logger } from "pino";
import type { Clock } from "../core/clock.ts";
import { OrchestratorError, toOrchestratorError } from "../core/errors.ts";
import { currentContext, runWithContextPatch } from "../core/request-context.ts";
import { TurnGate } from "../core/turn-gate.ts";
import { addUsage, type Usage, zeroUsage } from "../core/usage.ts";
import type { HeldSlot } from "../resilience/held-slot.ts";
import type { Priority } from "../resilience/priority-scheduler.ts";
import type { AdmissionTicket, SlotAdmission } from "../resilience/upstream-guard.ts";
import type { InitialClaim, RunRecord, Store, TaskRecord } from "../store/store.ts";
import { newAttempt, type RunExecutor, type RunStart } from "./run-executor.ts";
import {
  cancelledError,
  failureOf,
  nextStep,
  type TaskDescriptor,
  taskKey,
  timeoutError,
} from "./run-rules.ts";
import type { RunSteps, StepContext } from "./run-steps.ts";
import { type TaskEnd, taskPriority } from "./workflow-engine.ts";
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
  // Where a task waits for a slot of its model before it starts (the upstream guard).
  readonly slots: { admit(model: string, priority: Priority, waiter: SlotAdmission): AdmissionTicket };
}

// One run driven by this process.
interface LocalRun {
  readonly attempt: string;
  readonly controller: AbortController;
  // Tasks queued or started and not yet ended (their "running" record may not be written yet).
  readonly inFlight: Set<string>;
  // Tasks waiting for a slot of their model, not started yet.
  readonly queued: Set<QueuedTask>;
  // The last error a task ended with, in case its failure could not be stored.
  lastError: OrchestratorError | undefined;
  // The run and its tasks as this process knows them: read from the store once, then kept up to date with
  // the records its tasks write, so a step does not read the run again. Read again (the store is the
  // source of truth) when it is stale: after a refused or failed write, a plan, an abort.
  view: RunView | undefined;
  stale: boolean;
  // While the view is being read: the records this process's tasks stored meanwhile, applied over it.
  storedDuringRead: TaskRecord[] | undefined;
  // Writes of ended tasks' records not committed yet: the next step may start behind them (its start is
  // queued after them), but the run completes or fails only once they are done.
  readonly writing: Set<Promise<void>>;
  // Something changed (a task ended, the run was aborted): the rules are asked again.
  changed: boolean;
  wake: () => void;
  done: Promise<void>;
}

interface RunView {
  readonly run: RunRecord;
  // By task key (stage:index).
  readonly tasks: Map<string, TaskRecord>;
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
  // A step's granted tasks start together, one step per turn of the event loop when several are ready: a
  // thousand runs granted their slots at once (a burst of submissions, a model's slots freed together)
  // start over many short turns, with timers, sockets and other requests served in between.
  readonly #starts = new TurnGate((error) =>
    this.#deps.logger.error({ err: error }, "a workflow step's tasks could not be started"),
  );
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(deps: LocalExecutorDeps) {
    this.#deps = deps;
  }

  claimForNewRun(): InitialClaim {
    return this.#newClaim(this.#deps.clock.now());
  }

  // The run's new attempt, or undefined when it could not be claimed.
  async #claim(request: RunStart, now: number): Promise<string | undefined> {
    const claim = this.#newClaim(now);
    const claimed = await this.#deps.store.claimRun(request.id, {
      ...claim,
      expectedAttempt: request.expectedAttempt,
      ...(request.recovering ? { recoveringAt: new Date(now).toISOString() } : {}),
    });
    return claimed ? claim.attempt : undefined;
  }

  // A new attempt of this process's, leased from `now`.
  #newClaim(now: number): InitialClaim {
    return {
      attempt: newAttempt(now),
      leaseOwner: this.#deps.leaseOwner,
      leaseExpiresAt: new Date(now + this.#deps.leaseMs).toISOString(),
    };
  }

  async start(request: RunStart): Promise<boolean> {
    const { clock, leaseOwner, events } = this.#deps;
    if (this.#runs.has(request.id)) return false;
    const now = clock.now();
    // A run created with this process's claim is its already; any other is claimed now.
    const created = request.created?.leaseOwner === leaseOwner ? request.created : undefined;
    const attempt = created?.attempt ?? (await this.#claim(request, now));
    if (!attempt) return false;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(timeoutError(request.timeoutMs)), request.timeoutMs);
    timer.unref();
    const run: LocalRun = {
      attempt,
      controller,
      inFlight: new Set(),
      queued: new Set(),
      lastError: undefined,
      // A run created claimed by this process has no tasks yet: the store has nothing to add to it.
      view: created && { run: created, tasks: new Map() },
      stale: created === undefined,
      storedDuringRead: undefined,
      writing: new Set(),
      changed: false,
      wake: () => undefined,
      done: Promise.resolve(),
    };
    controller.signal.addEventListener("abort", () => this.#dropQueued(run), { once: true });
    this.#runs.set(request.id, run);
    this.#startHeartbeat();
    events.emit({ type: "workflow_started", workflowId: request.id, at: clock.isoNow() });
    // The run's upstream calls and log lines carry its workflow id, also when it runs in the background.
    // A run outlives the request that started it: its calls are bound by the run's timeout, not the request's.
    // They are its owner's, also when the run is recovered with no request behind it.
    // Its span is a child of the request's that started it (none for a run recovered with no request).
    const span = currentContext()?.span?.child("workflow.run", {
      attributes: { "orchestrator.workflow_id": request.id, "orchestrator.recovering": request.recovering },
    });
    const patch = {
      workflowId: request.id,
      deadline: undefined,
      clientId: request.owner ?? undefined,
      ...(span ? { span } : {}),
    };
    run.done = runWithContextPatch(patch, () =>
      this.#drive(request.id, run, now + request.timeoutMs, request.timeoutMs),
    )
      .catch((error: unknown) =>
        this.#deps.logger.error({ workflowId: request.id, err: error }, "workflow could not be driven on"),
      )
      .finally(() => {
        span?.end();
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
    const { steps } = this.#deps;
    const context: StepContext = { signal: local.controller.signal, deadline };
    let planUsage = zeroUsage;
    const signal = local.controller.signal;
    for (;;) {
      local.changed = false;
      if (local.stale || signal.aborted) await this.#read(id, local);
      const run = local.view?.run;
      // Ended (cancelled, say), or taken over by another attempt: stand down, stopping what is in flight.
      if (run?.status !== "running" || run.attempt !== local.attempt) {
        local.controller.abort(local.controller.signal.reason ?? shutdown);
        await this.#settle(local);
        return;
      }
      const tasks = inOrder(local.view?.tasks ?? new Map());
      // Past the deadline the run has timed out, whatever a task failed with on the way (its call's own
      // deadline may have fired a moment before the run's timer).
      if (!signal.aborted && this.#deps.clock.now() >= deadline)
        local.controller.abort(timeoutError(timeoutMs));
      if (signal.aborted) {
        await this.#stop(run, local, undefined, planUsage);
        return;
      }
      const step = nextStep(run, tasks, local.inFlight);
      // A decision that ends the run rests on every result so far: it waits for their writes, then is
      // made again (a refused write makes the view stale).
      const ending = step.kind === "complete" || step.kind === "fail" || step.kind === "wait";
      if (ending && local.inFlight.size === 0 && local.writing.size > 0) {
        await Promise.all(local.writing);
        continue;
      }
      try {
        switch (step.kind) {
          case "plan":
            planUsage = await steps.plan(run, context);
            local.stale = true;
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

  // Each chat task waits for a slot of its model as a plain record and starts once granted one; tasks
  // granted together start together (their starts stored in one write). The run hears when each ends.
  #dispatch(
    descriptors: readonly TaskDescriptor[],
    context: StepContext,
    local: LocalRun,
    run: RunRecord,
    tasks: readonly TaskRecord[],
  ) {
    const batch = new StartBatch(this.#starts, (granted) => this.#start(granted, context, local, run, tasks));
    for (const task of descriptors) {
      local.inFlight.add(taskKey(task));
      const model = this.#deps.steps.firstModelOf(run, task);
      if (model === undefined) {
        batch.add(task, undefined);
        continue;
      }
      const queued = new QueuedTask(batch, local, task);
      local.queued.add(queued);
      // May be granted at once, within this call.
      queued.ticket = this.#deps.slots.admit(model, taskPriority, queued);
    }
  }

  #start(
    granted: readonly GrantedTask[],
    context: StepContext,
    local: LocalRun,
    run: RunRecord,
    tasks: readonly TaskRecord[],
  ) {
    // Granted at or past the run's deadline (a task's call timing out there frees its slot a moment before
    // the run's own timer fires), or stopped while its start waited for a turn: starting would only record
    // failures; the run times out or stops instead.
    if (context.signal.aborted || this.#deps.clock.now() >= context.deadline) {
      for (const { task, slot } of granted) {
        slot?.giveBack();
        local.inFlight.delete(taskKey(task));
      }
      this.#notify(local);
      return;
    }
    const running = this.#deps.steps.runTasks(
      granted.map(({ task }) => task),
      context,
      { run, tasks },
      granted.map(({ slot }) => slot),
    );
    granted.forEach(({ task, slot }, position) => {
      (running[position] ?? Promise.resolve(undefined))
        .then(
          (end) => this.#ended(local, end),
          (error: unknown) => {
            local.lastError = toOrchestratorError(error);
            local.stale = true;
          },
        )
        .finally(() => {
          // A slot its task never used (it failed before calling) goes back here.
          slot?.giveBack();
          local.inFlight.delete(taskKey(task));
          this.#notify(local);
        });
    });
  }

  // A run that stops (cancelled, failed, timed out, shutting down) drops its tasks still waiting for a slot:
  // they never started, so nothing of them is stored or given back.
  #dropQueued(local: LocalRun): void {
    for (const queued of local.queued) {
      if (queued.ticket?.withdraw()) local.inFlight.delete(taskKey(queued.task));
    }
    local.queued.clear();
    this.#notify(local);
  }

  // An ended task's record joins the run's view while its write commits; a task that did not run, or a
  // write that is refused or fails, means the store knows something this process does not: the view is
  // read again.
  #ended(local: LocalRun, end: TaskEnd | undefined): void {
    if (!end) {
      local.stale = true;
      return;
    }
    if (end.error) local.lastError = end.error;
    local.view?.tasks.set(taskKey(end.record), end.record);
    local.storedDuringRead?.push(end.record);
    const write = end.stored.then(
      (stored) => {
        if (!stored) local.stale = true;
      },
      (error: unknown) => {
        local.lastError = toOrchestratorError(error);
        local.stale = true;
      },
    );
    local.writing.add(write);
    void write.finally(() => {
      local.writing.delete(write);
      this.#notify(local);
    });
  }

  async #read(id: string, local: LocalRun): Promise<void> {
    const { store } = this.#deps;
    local.stale = false;
    local.storedDuringRead = [];
    try {
      const [run, records] = await Promise.all([store.getRun(id), store.listTasks(id)]);
      const tasks = new Map(records.map((t) => [taskKey(t), t]));
      for (const record of local.storedDuringRead) tasks.set(taskKey(record), record);
      local.view = run && { run, tasks };
    } catch (error) {
      local.stale = true;
      throw error;
    } finally {
      local.storedDuringRead = undefined;
    }
  }

  // The run stops: its tasks end first (storing how they ended, so what finished is kept); then it fails,
  // unless the process is shutting down, in which case its lease is released for the next process.
  async #stop(run: RunRecord, local: LocalRun, raw: unknown, planUsage: Usage): Promise<void> {
    const signal = local.controller.signal;
    if (raw !== undefined && !signal.aborted) local.controller.abort(toOrchestratorError(raw));
    await this.#settle(local);
    if (signal.reason === shutdown) {
      await this.#deps.store.releaseLeases(this.#deps.leaseOwner, [run.id]);
      return;
    }
    await this.#fail(run, failureOf(signal, raw), planUsage);
  }

  async #fail(run: RunRecord, failure: OrchestratorError, planUsage: Usage) {
    const spent = addUsage(planUsage, await this.#deps.steps.spentSoFar(run.id));
    await this.#deps.steps.fail(run, failure, spent);
  }

  async #settle(local: LocalRun): Promise<void> {
    while (local.inFlight.size > 0 || local.writing.size > 0) await this.#changed(local);
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

// A task granted its model's slot (undefined for a task that needs none), ready to start.
interface GrantedTask {
  readonly task: TaskDescriptor;
  readonly slot: HeldSlot | undefined;
}

// A task waiting for a slot of its model: nothing of it runs (no call, promise, timer or reservation) until
// the model's scheduler grants it one.
class QueuedTask implements SlotAdmission {
  readonly task: TaskDescriptor;
  readonly #batch: StartBatch;
  readonly #local: LocalRun;
  ticket: AdmissionTicket | undefined;

  constructor(batch: StartBatch, local: LocalRun, task: TaskDescriptor) {
    this.#batch = batch;
    this.#local = local;
    this.task = task;
  }

  granted(slot: HeldSlot): void {
    this.#local.queued.delete(this);
    this.#batch.add(this.task, slot);
  }
}

// Tasks of one step granted their slots in the same turn start together, in one call to `start`, once the
// executor's turn gate lets them through.
class StartBatch {
  readonly #turns: TurnGate;
  readonly #start: (granted: GrantedTask[]) => void;
  #granted: GrantedTask[] = [];

  constructor(turns: TurnGate, start: (granted: GrantedTask[]) => void) {
    this.#turns = turns;
    this.#start = start;
  }

  add(task: TaskDescriptor, slot: HeldSlot | undefined): void {
    this.#granted.push({ task, slot });
    if (this.#granted.length === 1) queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    const granted = this.#granted;
    this.#granted = [];
    this.#turns.run(() => this.#start(granted));
  }
}

// Tasks by stage, then index, as the store lists them.
function inOrder(tasks: ReadonlyMap<string, TaskRecord>): TaskRecord[] {
  return [...tasks.values()].sort((a, b) => a.stage - b.stage || a.index - b.index);
}

function stuck(runId: string): OrchestratorError {
  return new OrchestratorError({
    kind: "fatal",
    code: "workflow_stuck",
    message: `run ${runId} made no progress: a task ended without a result`,
  });
}
