import type { UsageStore } from "./usage-store.ts";

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

export const runStatuses = ["running", "completed", "failed", "interrupted", "cancelled"] as const;
export type RunStatus = (typeof runStatuses)[number];

export interface RunUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costUsd: number;
}

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
  readonly usage: RunUsage | null;
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
  readonly usage: RunUsage | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
  // The workflow the run executes (stages and variables), once it is known.
  readonly workflow: unknown;
  // The current attempt at the run when it runs on a queue; jobs of other attempts stand down.
  readonly attempt: string | null;
  // The id of the client key that started the run (null in open mode); only that client may see it.
  readonly owner: string | null;
}

export interface NewRun {
  readonly id: string;
  readonly sessionId: string | null;
  readonly kind: string;
  readonly request: unknown;
  readonly owner?: string | null;
}

export interface RunUpdate {
  readonly status: RunStatus;
  readonly result?: string;
  readonly error?: RunError;
  readonly model?: string;
  readonly usage?: RunUsage;
}

export interface Store {
  // The cost ledger and the request log, in the same database.
  readonly usage: UsageStore;
  getSession(id: string): Promise<SessionRecord | undefined>;
  // Creates the session if it does not exist yet; returns it either way.
  ensureSession(id: string): Promise<SessionRecord>;
  listMessages(sessionId: string): Promise<StoredMessage[]>;
  // All or nothing: the session is created if needed and every message is written, or none is.
  appendMessages(sessionId: string, messages: readonly NewMessage[]): Promise<void>;
  // The run and the session messages that announce it are written together or not at all.
  createRun(run: NewRun, sessionMessages?: readonly NewMessage[]): Promise<RunRecord>;
  getRun(id: string): Promise<RunRecord | undefined>;
  // Ends a running run; false (and nothing written) when it had already ended, say cancelled meanwhile.
  finishRun(id: string, update: RunUpdate, sessionMessages?: readonly NewMessage[]): Promise<boolean>;
  setRunAttempt(id: string, attempt: string): Promise<void>;
  // At start-up: runs left `running` by a previous process were cut off.
  markRunningAsInterrupted(): Promise<number>;
  // Runs in the running state, whichever process runs them.
  countRunning(): Promise<number>;
  setRunWorkflow(id: string, workflow: unknown): Promise<void>;
  // Puts a finished or interrupted run back to running (resume); false if it was already running.
  reopenRun(id: string): Promise<boolean>;
  saveTask(task: TaskRecord): Promise<void>;
  listTasks(runId: string): Promise<TaskRecord[]>;
  saveArtifact(artifact: Omit<ArtifactRecord, "createdAt">): Promise<ArtifactRecord>;
  getArtifact(id: string): Promise<ArtifactRecord | undefined>;
  close(): Promise<void>;
}
