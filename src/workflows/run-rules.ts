import { OrchestratorError, toOrchestratorError } from "../core/errors.ts";
import { sumUsage, type Usage } from "../core/usage.ts";
import type { RunRecord, TaskRecord } from "../store/store.ts";
import type { WorkflowDefinition } from "./workflow-schema.ts";

// The rules of a run, written once for every executor: given the stored run and its tasks, what happens
// next. An executor only carries the decision out (in this process, or as jobs on a queue) and asks again
// when something changed, so a new stage type or failure rule is written here and nowhere else.

// One task to run, as plain data: an executor queues it and starts it when a slot is free.
export interface TaskDescriptor {
  readonly runId: string;
  readonly attempt: string;
  readonly stage: number;
  readonly index: number;
}

export type NextStep =
  // An H request's workflow is not planned yet.
  | { readonly kind: "plan" }
  // These tasks are ready; tasks already in flight are not among them.
  | { readonly kind: "start"; readonly tasks: readonly TaskDescriptor[] }
  // Tasks of this attempt are still running: ask again when one of them ends.
  | { readonly kind: "wait" }
  | { readonly kind: "complete"; readonly outputs: Record<string, string>; readonly usage: Usage }
  | { readonly kind: "fail"; readonly error: OrchestratorError };

const key = (stage: number, index: number) => `${stage}:${index}`;
export const taskKey = (task: { readonly stage: number; readonly index: number }): string =>
  key(task.stage, task.index);

// Stages run in order. The first stage with unfinished tasks decides: a linear stage's tasks all run at
// once, an inline stage's one after another. A task that failed in this attempt fails the run once its
// siblings in flight have ended (what they finish is kept); failures of earlier attempts are retried.
// A task is in flight when it is running in this attempt, or when the executor says so (`inFlight`,
// task keys): it has started it and its "running" record may not be written yet.
export function nextStep(
  run: RunRecord,
  tasks: readonly TaskRecord[],
  inFlight: ReadonlySet<string> = new Set(),
): NextStep {
  const definition = run.workflow as WorkflowDefinition | null;
  if (!definition) return { kind: "plan" };
  const attempt = run.attempt ?? "";
  const byPosition = new Map(tasks.map((t) => [taskKey(t), t]));
  const running = (index: number, record: TaskRecord | undefined, stage: number) =>
    inFlight.has(key(stage, index)) || (record?.status === "running" && record.attempt === attempt);
  for (const [stage, { type, tasks: stageTasks }] of definition.stages.entries()) {
    const pending = stageTasks
      .map((_, index) => ({ index, record: byPosition.get(key(stage, index)) }))
      .filter(({ record }) => record?.status !== "completed");
    if (pending.length === 0) continue;
    const busy = pending.some(({ index, record }) => running(index, record, stage));
    const failed = pending.find(
      ({ index, record }) =>
        !inFlight.has(key(stage, index)) &&
        (record?.status === "failed" || record?.status === "cancelled") &&
        record.attempt === attempt,
    );
    if (failed?.record?.error)
      return busy ? { kind: "wait" } : { kind: "fail", error: taskError(failed.record) };
    const candidates = type === "linear" ? pending : pending.slice(0, 1);
    const ready = candidates
      .filter(({ index, record }) => !running(index, record, stage))
      .map(({ index }) => ({ runId: run.id, attempt, stage, index }));
    return ready.length > 0 ? { kind: "start", tasks: ready } : { kind: "wait" };
  }
  return { kind: "complete", outputs: outputsOf(tasks), usage: usageOfTasks(tasks) };
}

// The variables a task's prompt may use: the workflow's own, and the outputs finished so far.
export function taskValues(
  definition: WorkflowDefinition,
  tasks: readonly TaskRecord[],
): Record<string, string> {
  return { ...definition.variables, ...outputsOf(tasks) };
}

export function outputsOf(tasks: readonly TaskRecord[]): Record<string, string> {
  return Object.fromEntries(
    tasks
      .filter((t) => t.status === "completed" && t.output !== null)
      .map((t) => [t.outputVariable, t.output ?? ""]),
  );
}

// What the run's tasks spent together (a task that never called a model has no usage).
export function usageOfTasks(tasks: readonly TaskRecord[]): Usage {
  return sumUsage(tasks.flatMap((t) => (t.usage ? [t.usage] : [])));
}

export function cancelledError(): OrchestratorError {
  return new OrchestratorError({
    kind: "logical",
    code: "cancelled",
    status: 499,
    message: "the workflow was cancelled",
  });
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

// The driver of a run was lost more often than orchestration.maxRecoveries allows.
export function lostError(recoveries: number): OrchestratorError {
  return new OrchestratorError({
    kind: "fatal",
    code: "workflow_lost",
    message: `the workflow lost its process ${recoveries + 1} times (crashes or lost queue jobs) and is not recovered again (orchestration.maxRecoveries)`,
  });
}

// Why a run stopped: its signal's reason (cancelled, timed out) when it fired, else the error itself.
export function failureOf(signal: AbortSignal, raw: unknown): OrchestratorError {
  if (signal.aborted && OrchestratorError.isInstance(signal.reason)) return signal.reason;
  return toOrchestratorError(raw);
}

function taskError(record: TaskRecord): OrchestratorError {
  const { type, code, message } = record.error ?? {
    type: "fatal",
    code: "task_failed",
    message: "a task failed",
  };
  return new OrchestratorError({ kind: type as OrchestratorError["kind"], code, message });
}
