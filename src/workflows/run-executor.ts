import { randomUUID } from "node:crypto";
import type { InitialClaim, RunRecord } from "../store/store.ts";

// Starting (or taking over) a run: it gets a new attempt, its fencing token, if its attempt is still
// `expectedAttempt`; a recovery (`recovering`) also needs the previous driver's lease expired.
export interface RunStart {
  readonly id: string;
  readonly expectedAttempt: string | null;
  readonly timeoutMs: number;
  readonly recovering?: boolean;
  // The id of the client key that started the run (null in open mode; see RunRecord.owner): its calls are
  // that client's, whichever process drives the run and from whatever context it is started or recovered.
  readonly owner: string | null;
  // The run as just stored with the executor's claimForNewRun: it is claimed already and has no tasks, so
  // the executor neither claims it nor reads it back.
  readonly created?: RunRecord;
}

// Where runs are carried out: in this process, or as jobs on a queue for worker processes. Either way an
// executor only carries out what the run rules decide; the steps themselves are shared.
export interface RunExecutor {
  // The lease to store with a run being created, when this executor drives it in this process (a write
  // and two reads fewer per run); undefined when runs are claimed elsewhere (by a queue's worker).
  claimForNewRun(): InitialClaim | undefined;
  // False when the run could not be claimed (another process took it, or it ended).
  start(run: RunStart): Promise<boolean>;
  // Stops the run's work in flight; the run is already marked ended in the store.
  cancel(id: string): Promise<void>;
  // Resolves when the run has ended.
  waitFor(id: string): Promise<void>;
  // Running runs: in this process, or in the whole cluster when they run on a queue.
  runningCount(): Promise<number>;
  // Whether a run whose lease expired is still driven after all (its queue job is alive); if so its lease
  // is renewed and it is left alone.
  stillDriven(run: RunRecord): Promise<boolean>;
  // Lets the work in flight finish for up to graceMs, then stops it, leaving its runs to be recovered.
  close(graceMs: number): Promise<void>;
}

export function runTimeoutMs(run: RunRecord, defaultTimeoutSeconds: number): number {
  const request = run.request as { timeout_seconds?: unknown; timeoutSeconds?: unknown } | null;
  const seconds = request?.timeout_seconds ?? request?.timeoutSeconds;
  return (typeof seconds === "number" && seconds > 0 ? seconds : defaultTimeoutSeconds) * 1000;
}

// An attempt id: unique, and sortable by when it was made (which helps reading the store).
export function newAttempt(now: number): string {
  return `${now.toString(36)}-${randomUUID().slice(0, 8)}`;
}
