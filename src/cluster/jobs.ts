import type { TraceCarrier } from "../core/trace-span.ts";
import type { Usage } from "../core/usage.ts";

// The jobs on the workflow queue. An "advance" job drives one run: it plans (H requests), queues the next
// stage's tasks as its children, waits for them, and finally completes or fails the run. A "task" job runs
// one task of the workflow on whichever worker takes it.

export const advanceJob = "advance";
export const taskJob = "task";

// Who the work is for, carried from the API's request to the workers' logs and cost ledger.
export interface JobContext {
  readonly requestId: string;
  readonly sessionId?: string | undefined;
  readonly category?: string | undefined;
  // The client key's id, so a worker's calls draw on that client's budget.
  readonly clientId?: string | undefined;
  // The W3C trace context of the span that queued the job (the request's, then the run's), so the work
  // done by workers is part of the trace of the request that started it. Absent with tracing off.
  readonly trace?: TraceCarrier | undefined;
}

export interface AdvanceJobData {
  readonly runId: string;
  // Absolute time (ms) by which the run must be over.
  readonly deadline: number;
  // This attempt at the run (a resume starts another): jobs of other attempts stand down.
  readonly attempt: string;
  readonly context: JobContext;
  readonly planUsage?: Usage;
}

export interface TaskJobData {
  readonly runId: string;
  readonly attempt: string;
  readonly stage: number;
  readonly index: number;
  readonly deadline: number;
  readonly context: JobContext;
}

export interface CancelMessage {
  readonly runId: string;
}
