import type { Kysely, Selectable } from "kysely";
import type { SqlDialectName } from "./migrations.ts";
import { preparedQuery } from "./prepared-query.ts";
import type { DatabaseSchema, WorkflowRunsTable, WorkflowTasksTable } from "./schema.ts";
import type { TaskStatus } from "./store.ts";

type RunRow = Selectable<WorkflowRunsTable>;
type TaskRow = Selectable<WorkflowTasksTable>;

const runColumns = [
  "id",
  "session_id",
  "kind",
  "status",
  "request",
  "result",
  "error",
  "model",
  "usage",
  "created_at",
  "updated_at",
  "finished_at",
  "workflow",
  "attempt",
  "owner",
  "lease_owner",
  "lease_expires_at",
  "recoveries",
  "estimate_usd",
] as const satisfies readonly (keyof RunRow)[];

const taskColumns = [
  "run_id",
  "stage",
  "task_index",
  "role",
  "model",
  "output_variable",
  "status",
  "output",
  "error",
  "usage",
  "started_at",
  "finished_at",
  "worker",
  "attempt",
] as const satisfies readonly (keyof TaskRow)[];

// The queries of the workflow runtime's hot path (a run's row, its tasks' records), each compiled once
// for this database's dialect (see prepared-query.ts). The rest of the store builds its queries as usual.
export function runQueries(db: Kysely<DatabaseSchema>, dialect: SqlDialectName) {
  return {
    getRun: preparedQuery(["id"], (v) => db.selectFrom("workflow_runs").selectAll().where("id", "=", v.id)),
    insertRun: preparedQuery(runColumns, (v) => db.insertInto("workflow_runs").values(v)),
    listTasks: preparedQuery(["runId"], (v) =>
      db
        .selectFrom("workflow_tasks")
        .selectAll()
        .where("run_id", "=", v.runId)
        .orderBy("stage")
        .orderBy("task_index"),
    ),
    // The fence of a task write: the run's row, read under a lock on PostgreSQL, so a claim by another
    // process either lands before the write (which is then refused) or waits for it.
    runFence: preparedQuery(["id"], (v) => {
      const read = db.selectFrom("workflow_runs").select(["attempt", "status"]).where("id", "=", v.id);
      return dialect === "postgres" ? read.forShare() : read;
    }),
    // A finished task is final: its record is never written over.
    upsertTask: preparedQuery(taskColumns, (v) => {
      const { run_id: _runId, stage: _stage, task_index: _index, ...changes } = v;
      return db
        .insertInto("workflow_tasks")
        .values(v)
        .onConflict((oc) =>
          oc
            .columns(["run_id", "stage", "task_index"])
            .doUpdateSet(changes)
            .where("workflow_tasks.status", "!=", "completed" satisfies TaskStatus),
        );
    }),
  };
}
