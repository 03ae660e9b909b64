import type { Logger } from "pino";
import type { Clock } from "../core/clock.ts";
import type { RunRecord, Store } from "../store/store.ts";
import { newAttempt, type RunExecutor, runTimeoutMs } from "./run-executor.ts";
import { lostError } from "./run-rules.ts";
import type { RunSteps } from "./run-steps.ts";
import type { WorkflowEvents } from "./workflow-events.ts";

export interface RecoverySettings {
  // Resume runs whose driver was lost; off, they are marked interrupted (and can be resumed by hand).
  readonly resumeOnStart: boolean;
  readonly leaseMs: number;
  // A run recovered this often is failed instead: it may be what kills its processes.
  readonly maxRecoveries: number;
  readonly defaultTimeoutSeconds: number;
}

export interface RunRecoveryDeps {
  readonly store: Store;
  readonly steps: RunSteps;
  readonly executor: RunExecutor;
  readonly events: WorkflowEvents;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly leaseOwner: string;
  readonly settings: RecoverySettings;
}

// Runs are swept for at most this many at a time; the rest wait for the next sweep.
const sweepBatch = 100;

// Finds running runs whose driver is gone (their lease expired: the process crashed, or their queue job was
// lost) and takes them over, at start-up and then every half lease. Whichever process claims a run first
// (a compare-and-set on its attempt) carries it on; the others leave it alone.
export class RunRecovery {
  readonly #deps: RunRecoveryDeps;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<number> | undefined;

  constructor(deps: RunRecoveryDeps) {
    this.#deps = deps;
  }

  start(): void {
    const run = () => {
      this.sweep().catch((error: unknown) =>
        this.#deps.logger.warn({ err: error }, "could not look for workflows to recover"),
      );
    };
    run();
    this.#timer = setInterval(run, Math.max(50, this.#deps.settings.leaseMs / 2));
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  // How many runs were taken over (resumed, interrupted or failed).
  sweep(): Promise<number> {
    this.#sweeping ??= this.#sweep().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  async #sweep(): Promise<number> {
    const { store, clock, settings, executor } = this.#deps;
    const now = clock.now();
    const orphans = await store.listOrphanedRuns(
      new Date(now).toISOString(),
      new Date(now - settings.leaseMs).toISOString(),
      sweepBatch,
    );
    let taken = 0;
    for (const run of orphans) {
      try {
        if (await executor.stillDriven(run)) continue;
        if (await this.#recover(run)) taken++;
      } catch (error) {
        this.#deps.logger.warn({ err: error, workflowId: run.id }, "could not recover a workflow");
      }
    }
    return taken;
  }

  async #recover(run: RunRecord): Promise<boolean> {
    const { settings, executor, logger } = this.#deps;
    if (settings.resumeOnStart && run.recoveries < settings.maxRecoveries) {
      const started = await executor.start({
        id: run.id,
        expectedAttempt: run.attempt,
        timeoutMs: runTimeoutMs(run, settings.defaultTimeoutSeconds),
        recovering: true,
        owner: run.owner,
      });
      if (started)
        logger.warn(
          { workflowId: run.id, recoveries: run.recoveries + 1 },
          "workflow recovered: resuming where it stood",
        );
      return started;
    }
    // Claimed first, so only one process ends it.
    const claimed = await this.#claim(run);
    if (!claimed) return false;
    if (!settings.resumeOnStart) return this.#interrupt(claimed);
    const spent = await this.#deps.steps.spentSoFar(run.id);
    return this.#deps.steps.fail(claimed, lostError(run.recoveries), spent);
  }

  async #claim(run: RunRecord): Promise<RunRecord | undefined> {
    const { store, clock, leaseOwner, settings } = this.#deps;
    const now = clock.now();
    const attempt = newAttempt(now);
    const claimed = await store.claimRun(run.id, {
      attempt,
      expectedAttempt: run.attempt,
      leaseOwner,
      leaseExpiresAt: new Date(now + settings.leaseMs).toISOString(),
      recoveringAt: new Date(now).toISOString(),
    });
    return claimed ? { ...run, attempt } : undefined;
  }

  async #interrupt(run: RunRecord): Promise<boolean> {
    const { store, events, clock, logger } = this.#deps;
    const ended = await store.finishRun(run.id, { status: "interrupted" }, [], run.attempt);
    if (!ended) return false;
    logger.warn(
      { workflowId: run.id },
      "workflow cut off by a lost process: marked interrupted (orchestration.resumeOnStart is off)",
    );
    events.emit({ type: "workflow_finished", workflowId: run.id, status: "interrupted", at: clock.isoNow() });
    return true;
  }
}
