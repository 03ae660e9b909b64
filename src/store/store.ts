import type { Usage } from "../core/usage.ts";
import type { LedgerEntry, UsageStore } from "./usage-store.ts";

// What the service persists: sessions with their messages, and background runs (H requests, workflows).

export type MessageRole = "user" | "assistant";

export interface NewMessage {
  readonly role: MessageRole;
  readonly content: string;
  readonly tokens: number;
  readonly imageCount?: number;
  readonly category?: string;
  readonly model?: string;
  readonly provider?: string;
  readonly workflowId?: string;
}

export interface StoredMessage extends NewMessage {
  readonly id: number;
  readonly sessionId: string;
  readonly createdAt: string;
}

export interface SessionRecord {
  readonly id: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

// A conversation's running totals and the state of its history policy, kept on the session row so that a
// turn never walks the whole history.
export interface SessionState extends SessionRecord {
  readonly messageCount: number;
  readonly totalTokens: number;
  // The window: the messages whose id is at least windowStart, sent verbatim. Older ones are folded into
  // the summary (or dropped, without one).
  readonly windowStart: number;
  readonly windowTokens: number;
  readonly summary: string | null;
  readonly summaryTokens: number;
  // How many messages the summary covers (or were dropped from the window).
  readonly summarizedMessages: number;
}

// Moving a session's window start past the oldest turns of its window, with the summary that now covers them.
export interface HistoryFold {
  // The fold was computed from this window; if another fold moved it meanwhile, nothing is written.
  readonly expectedWindowStart: number;
  readonly windowStart: number;
  readonly foldedMessages: number;
  readonly foldedTokens: number;
  // Left as it is when the turns leaving the window are dropped without a summary.
  readonly summary?: { readonly text: string; readonly tokens: number };
}

// A page of a session's messages, newest first by id: `limit` messages older than the id `before`.
export interface MessagePage {
  readonly limit: number;
  readonly before?: number | undefined;
}

// What deleting a session found: deleted, not there, or a run of it still running (then nothing is deleted).
export type SessionDeletion = "deleted" | "not_found" | "running";

export const runStatuses = ["running", "completed", "failed", "interrupted", "cancelled"] as const;
export type RunStatus = (typeof runStatuses)[number];

export interface RunError {
  readonly type: string;
  readonly code: string;
  readonly message: string;
}

export const taskStatuses = ["waiting", "running", "completed", "failed", "cancelled"] as const;
export type TaskStatus = (typeof taskStatuses)[number];

export interface TaskRecord {
  readonly runId: string;
  readonly stage: number;
  readonly index: number;
  readonly role: string;
  readonly model: string | null;
  readonly outputVariable: string;
  readonly status: TaskStatus;
  readonly output: string | null;
  readonly error: RunError | null;
  readonly usage: Usage | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  // The process that ran (or runs) the task, and the attempt at the run it belongs to (queue mode).
  readonly worker?: string | null;
  readonly attempt?: string | null;
}

export interface ArtifactRecord {
  readonly id: string;
  readonly runId: string | null;
  readonly contentType: string;
  readonly data: Uint8Array;
  // Made by the offline mode, not by a real model.
  readonly simulated: boolean;
  readonly createdAt: string;
  // The id of the client key it was made for when it belongs to no run (a run's artifacts are its owner's).
  readonly owner?: string | null;
}

export interface RunRecord {
  readonly id: string;
  readonly sessionId: string | null;
  readonly kind: string;
  readonly status: RunStatus;
  readonly request: unknown;
  readonly result: string | null;
  readonly error: RunError | null;
  readonly model: string | null;
  readonly usage: Usage | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
  // The workflow the run executes (stages and variables), once it is known.
  readonly workflow: unknown;
  // The current attempt at the run: its fencing token. Writes of any other attempt (a process that lost
  // the run, jobs of a cancelled attempt) are refused, and such processes and jobs stand down.
  readonly attempt: string | null;
  // The id of the client key that started the run (null in open mode); only that client may see it.
  readonly owner: string | null;
  // Who drives the run and until when: a lease its driver renews while it lives. A running run whose lease
  // has expired lost its driver (a crash) and is recovered by whichever process claims it first.
  readonly leaseOwner: string | null;
  readonly leaseExpiresAt: string | null;
  // How often the run was recovered after losing its driver (a lease given up on a graceful stop is not).
  readonly recoveries: number;
  // What the run's workflow was estimated to cost before it ran (USD), once the workflow is known.
  readonly estimateUsd: number | null;
}

// Taking over a running run: a new attempt (fencing token) and a lease. Succeeds only while the run is
// running with the expected attempt; a recovery also needs the lease expired, and is counted.
export interface RunClaim {
  readonly attempt: string;
  readonly expectedAttempt: string | null;
  // The process instance (or, on a queue, the job) that drives the run under this lease.
  readonly leaseOwner: string;
  readonly leaseExpiresAt: string;
  // Set (to now) when taking over a run whose driver was lost.
  readonly recoveringAt?: string;
}

// The lease a run is created with when the process creating it drives it itself: the run needs no claim.
export type InitialClaim = Pick<RunClaim, "attempt" | "leaseOwner" | "leaseExpiresAt">;

export interface NewRun {
  readonly id: string;
  readonly sessionId: string | null;
  readonly kind: string;
  readonly request: unknown;
  readonly owner?: string | null;
  // Known at submission (a workflow posted as it is, not planned): stored with the run in one write.
  readonly workflow?: unknown;
  readonly estimateUsd?: number;
  readonly claim?: InitialClaim;
}

export interface RunUpdate {
  readonly status: RunStatus;
  readonly result?: string;
  readonly error?: RunError;
  readonly model?: string;
  readonly usage?: Usage;
}

export interface Store {
  // The cost ledger and the request log, in the same database.
  readonly usage: UsageStore;
  getSession(id: string): Promise<SessionState | undefined>;
  // Creates the session if it does not exist yet; returns it either way.
  ensureSession(id: string): Promise<SessionRecord>;
  // Every message, oldest first; or one page of them (still oldest first within the page).
  listMessages(sessionId: string, page?: MessagePage): Promise<StoredMessage[]>;
  // The messages from id `fromId` on, oldest first: a tail read by the (session_id, id) index.
  listMessagesFrom(sessionId: string, fromId: number): Promise<StoredMessage[]>;
  // False (nothing written) when the session's window start is no longer `expectedWindowStart`.
  foldHistory(sessionId: string, fold: HistoryFold): Promise<boolean>;
  // The session, its messages and its summary; a session with a running run is left alone.
  deleteSession(id: string): Promise<SessionDeletion>;
  // Deletes up to `limit` sessions last used before `idleBefore` (with no running run), their messages and
  // summaries; returns how many sessions went.
  deleteIdleSessions(idleBefore: string, limit: number): Promise<number>;
  // All or nothing: the session is created if needed and every message is written, or none is.
  appendMessages(sessionId: string, messages: readonly NewMessage[]): Promise<void>;
  // The run and the session messages that announce it are written together or not at all.
  createRun(run: NewRun, sessionMessages?: readonly NewMessage[]): Promise<RunRecord>;
  getRun(id: string): Promise<RunRecord | undefined>;
  // Ends a running run; false (and nothing written) when it had already ended, say cancelled meanwhile, or
  // when `attempt` is given and is no longer the run's. Its tasks still marked running end with it.
  finishRun(
    id: string,
    update: RunUpdate,
    sessionMessages?: readonly NewMessage[],
    attempt?: string | null,
  ): Promise<boolean>;
  // False when the claim lost (another process took the run, or it ended).
  claimRun(id: string, claim: RunClaim): Promise<boolean>;
  // Extends the leases `leaseOwner` holds on the running runs named.
  renewLeases(leaseOwner: string, leaseExpiresAt: string, runIds: readonly string[]): Promise<void>;
  // Gives the leases up (a graceful stop): the runs are taken over at once, and that is no recovery.
  releaseLeases(leaseOwner: string, runIds: readonly string[]): Promise<void>;
  // Running runs whose lease expired before `now`, or that were never claimed and last changed before
  // `unclaimedBefore`: their driver is gone.
  listOrphanedRuns(now: string, unclaimedBefore: string, limit: number): Promise<RunRecord[]>;
  // Runs in the running state, whichever process runs them.
  countRunning(): Promise<number>;
  // False (nothing written) when `attempt` is given and is no longer the run's.
  setRunWorkflow(id: string, workflow: unknown, attempt?: string | null): Promise<boolean>;
  // What the run's workflow is estimated to cost (USD), stored once the workflow is known.
  setRunEstimate(id: string, estimateUsd: number): Promise<void>;
  // Puts a finished or interrupted run back to running (resume); false if it was already running.
  reopenRun(id: string): Promise<boolean>;
  // False (nothing written) when the task's attempt is no longer the run's, when it would mark a task
  // running in a run that is not, or when the task had already completed: a finished task is final.
  // `calls`, the ledger rows of the task's upstream calls, commit in the same transaction (also when the
  // task's write is refused: the calls were made), so a stored result never outlives its calls' rows.
  saveTask(task: TaskRecord, calls?: readonly LedgerEntry[]): Promise<boolean>;
  // Several tasks' records (the tasks a step starts together) in one transaction, each saved or refused
  // as saveTask would; true or false for each, in order.
  saveTasks(tasks: readonly TaskRecord[], calls?: readonly LedgerEntry[]): Promise<boolean[]>;
  listTasks(runId: string): Promise<TaskRecord[]>;
  saveArtifact(artifact: Omit<ArtifactRecord, "createdAt">): Promise<ArtifactRecord>;
  getArtifact(id: string): Promise<ArtifactRecord | undefined>;
  close(): Promise<void>;
}
