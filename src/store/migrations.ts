import { type ColumnDataType, type ColumnDefinitionBuilder, type Kysely, sql } from "kysely";
import type { Migration, MigrationProvider } from "kysely/migration";

export type SqlDialectName = "sqlite" | "postgres";

// The few column types that differ between the two databases; everything else is plain SQL.
function columnTypes(dialect: SqlDialectName) {
  const postgres = dialect === "postgres";
  return {
    // Costs need double precision: Postgres' "real" is single precision.
    real: (postgres ? "double precision" : "real") as ColumnDataType,
    blob: (postgres ? "bytea" : "blob") as ColumnDataType,
    serialId: (postgres ? "serial" : "integer") as ColumnDataType,
  };
}

// Migrations run at start-up, in order, each once. Add new ones at the end; never change what a shipped one
// creates (the dialect switch only spells the same columns for Postgres).
function migrationsFor(dialect: SqlDialectName): Record<string, Migration> {
  const type = columnTypes(dialect);
  const autoId = (c: ColumnDefinitionBuilder) =>
    dialect === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement();
  return {
    "0001_sessions_messages_runs": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("sessions")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("updated_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("messages")
          .addColumn("id", type.serialId, autoId)
          .addColumn("session_id", "text", (c) => c.notNull().references("sessions.id").onDelete("cascade"))
          .addColumn("role", "text", (c) => c.notNull())
          .addColumn("content", "text", (c) => c.notNull())
          .addColumn("tokens", "integer", (c) => c.notNull())
          .addColumn("image_count", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("category", "text")
          .addColumn("model", "text")
          .addColumn("provider", "text")
          .addColumn("workflow_id", "text")
          .addColumn("created_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("messages_by_session")
          .on("messages")
          .columns(["session_id", "id"])
          .execute();
        await db.schema
          .createTable("workflow_runs")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("session_id", "text")
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("request", "text", (c) => c.notNull())
          .addColumn("result", "text")
          .addColumn("error", "text")
          .addColumn("model", "text")
          .addColumn("usage", "text")
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("updated_at", "text", (c) => c.notNull())
          .addColumn("finished_at", "text")
          .execute();
        await db.schema.createIndex("workflow_runs_by_status").on("workflow_runs").column("status").execute();
      },
      async down(db: Kysely<unknown>) {
        await sql`drop table if exists workflow_runs`.execute(db);
        await sql`drop table if exists messages`.execute(db);
        await sql`drop table if exists sessions`.execute(db);
      },
    },
    "0002_workflow_tasks_artifacts": {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("workflow_runs").addColumn("workflow", "text").execute();
        await db.schema
          .createTable("workflow_tasks")
          .addColumn("run_id", "text", (c) => c.notNull().references("workflow_runs.id").onDelete("cascade"))
          .addColumn("stage", "integer", (c) => c.notNull())
          .addColumn("task_index", "integer", (c) => c.notNull())
          .addColumn("role", "text", (c) => c.notNull())
          .addColumn("model", "text")
          .addColumn("output_variable", "text", (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("output", "text")
          .addColumn("error", "text")
          .addColumn("usage", "text")
          .addColumn("started_at", "text")
          .addColumn("finished_at", "text")
          .addPrimaryKeyConstraint("workflow_tasks_pk", ["run_id", "stage", "task_index"])
          .execute();
        await db.schema
          .createTable("artifacts")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("run_id", "text")
          .addColumn("content_type", "text", (c) => c.notNull())
          .addColumn("data", type.blob, (c) => c.notNull())
          .addColumn("simulated", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("created_at", "text", (c) => c.notNull())
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await sql`drop table if exists artifacts`.execute(db);
        await sql`drop table if exists workflow_tasks`.execute(db);
        await db.schema.alterTable("workflow_runs").dropColumn("workflow").execute();
      },
    },
    "0003_cost_ledger_request_log": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("upstream_calls")
          .addColumn("id", type.serialId, autoId)
          .addColumn("at", "text", (c) => c.notNull())
          .addColumn("request_id", "text")
          .addColumn("endpoint", "text")
          .addColumn("session_id", "text")
          .addColumn("workflow_id", "text")
          .addColumn("category", "text")
          .addColumn("purpose", "text", (c) => c.notNull())
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("role", "text", (c) => c.notNull())
          .addColumn("model", "text", (c) => c.notNull())
          .addColumn("provider", "text", (c) => c.notNull())
          .addColumn("outcome", "text", (c) => c.notNull())
          .addColumn("error_code", "text")
          .addColumn("prompt_tokens", "integer", (c) => c.notNull())
          .addColumn("completion_tokens", "integer", (c) => c.notNull())
          .addColumn("latency_ms", type.real, (c) => c.notNull())
          .addColumn("cost_usd", type.real, (c) => c.notNull())
          .addColumn("cost_source", "text", (c) => c.notNull())
          .addColumn("baseline_usd", type.real, (c) => c.notNull())
          .addColumn("saved_usd", type.real, (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.createIndex("upstream_calls_by_time").on("upstream_calls").column("at").execute();
        await db.schema
          .createIndex("upstream_calls_by_session")
          .on("upstream_calls")
          .columns(["session_id", "at"])
          .execute();
        await db.schema
          .createTable("api_requests")
          .addColumn("id", type.serialId, autoId)
          .addColumn("at", "text", (c) => c.notNull())
          .addColumn("request_id", "text", (c) => c.notNull())
          .addColumn("method", "text", (c) => c.notNull())
          .addColumn("endpoint", "text", (c) => c.notNull())
          .addColumn("status", "integer", (c) => c.notNull())
          .addColumn("category", "text")
          .addColumn("latency_ms", type.real, (c) => c.notNull())
          .addColumn("cache_hit", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("session_id", "text")
          .execute();
        await db.schema.createIndex("api_requests_by_time").on("api_requests").column("at").execute();
      },
      async down(db: Kysely<unknown>) {
        await sql`drop table if exists api_requests`.execute(db);
        await sql`drop table if exists upstream_calls`.execute(db);
      },
    },
    "0004_task_worker": {
      async up(db: Kysely<unknown>) {
        // Which process ran the task: with several workers, where to look when something goes wrong.
        await db.schema.alterTable("workflow_tasks").addColumn("worker", "text").execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.alterTable("workflow_tasks").dropColumn("worker").execute();
      },
    },
    "0005_run_attempts": {
      async up(db: Kysely<unknown>) {
        // Which attempt at a run is current, so jobs of an earlier attempt (before a cancel and resume)
        // stand down, and which attempt each task result belongs to.
        await db.schema.alterTable("workflow_runs").addColumn("attempt", "text").execute();
        await db.schema.alterTable("workflow_tasks").addColumn("attempt", "text").execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.alterTable("workflow_tasks").dropColumn("attempt").execute();
        await db.schema.alterTable("workflow_runs").dropColumn("attempt").execute();
      },
    },
    "0006_answer_escalation": {
      async up(db: Kysely<unknown>) {
        // Why an answer was escalated, on the call that answered instead of the unusable one.
        await db.schema.alterTable("upstream_calls").addColumn("escalation", "text").execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.alterTable("upstream_calls").dropColumn("escalation").execute();
      },
    },
    "0007_run_owner": {
      async up(db: Kysely<unknown>) {
        // Which client (the id of its key, never the key) started the run: other clients cannot see it.
        await db.schema.alterTable("workflow_runs").addColumn("owner", "text").execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.alterTable("workflow_runs").dropColumn("owner").execute();
      },
    },
    "0008_artifact_owner": {
      async up(db: Kysely<unknown>) {
        // Artifacts made outside a run (the images endpoint) name their client themselves.
        await db.schema.alterTable("artifacts").addColumn("owner", "text").execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.alterTable("artifacts").dropColumn("owner").execute();
      },
    },
    "0009_shadow_samples": {
      async up(db: Kysely<unknown>) {
        // Shadow calls (a baseline answer and its judging) are marked, so the savings figure can leave them out.
        await db.schema
          .alterTable("upstream_calls")
          .addColumn("shadow", "integer", (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .createTable("shadow_samples")
          .addColumn("id", type.serialId, autoId)
          .addColumn("at", "text", (c) => c.notNull())
          .addColumn("request_id", "text")
          .addColumn("session_id", "text")
          .addColumn("category", "text")
          .addColumn("routed_role", "text", (c) => c.notNull())
          .addColumn("routed_model", "text", (c) => c.notNull())
          .addColumn("baseline_role", "text", (c) => c.notNull())
          .addColumn("baseline_model", "text")
          .addColumn("judge_model", "text")
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("verdict", "text")
          .addColumn("reason", "text")
          .addColumn("routed_first", "integer")
          .addColumn("error_code", "text")
          .addColumn("cost_usd", type.real, (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.createIndex("shadow_samples_by_time").on("shadow_samples").column("at").execute();
        await db.schema
          .createIndex("shadow_samples_by_request")
          .on("shadow_samples")
          .column("request_id")
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await sql`drop table if exists shadow_samples`.execute(db);
        await db.schema.alterTable("upstream_calls").dropColumn("shadow").execute();
      },
    },
    "0010_reasoning_tokens": {
      async up(db: Kysely<unknown>) {
        // Of a call's completion tokens, those a thinking model spent reasoning (billed as output).
        await db.schema
          .alterTable("upstream_calls")
          .addColumn("reasoning_tokens", "integer", (c) => c.notNull().defaultTo(0))
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.alterTable("upstream_calls").dropColumn("reasoning_tokens").execute();
      },
    },
    "0011_run_leases": {
      async up(db: Kysely<unknown>) {
        // Who drives a running run and until when (a lease renewed while it lives), and how often it was
        // recovered after its driver was lost: a run that keeps killing its process is not resumed for ever.
        await db.schema.alterTable("workflow_runs").addColumn("lease_owner", "text").execute();
        await db.schema.alterTable("workflow_runs").addColumn("lease_expires_at", "text").execute();
        await db.schema
          .alterTable("workflow_runs")
          .addColumn("recoveries", "integer", (c) => c.notNull().defaultTo(0))
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.alterTable("workflow_runs").dropColumn("recoveries").execute();
        await db.schema.alterTable("workflow_runs").dropColumn("lease_expires_at").execute();
        await db.schema.alterTable("workflow_runs").dropColumn("lease_owner").execute();
      },
    },
    "0012_run_estimate": {
      async up(db: Kysely<unknown>) {
        // What the run's workflow was estimated to cost before it ran.
        await db.schema.alterTable("workflow_runs").addColumn("estimate_usd", type.real).execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.alterTable("workflow_runs").dropColumn("estimate_usd").execute();
      },
    },
    "0013_fewer_pages_per_write": {
      // Every commit writes each page it changed to the log, so the pages an insert touches are most of its
      // cost. AUTOINCREMENT keeps a counter row in sqlite_sequence, one more page per insert, to promise
      // that ids are never reused after the newest row is deleted; these tables never delete rows, so a
      // plain integer key gives the same ids. Calls outside a session (workflow tasks, most gateway calls)
      // need no entry in the by-session index, which is only ever searched by a session id.
      async up(db: Kysely<unknown>) {
        if (dialect === "sqlite") {
          for (const table of ["messages", "upstream_calls", "api_requests", "shadow_samples"]) {
            await rebuildWithoutAutoincrement(db, table);
          }
        }
        await db.schema.dropIndex("upstream_calls_by_session").execute();
        await db.schema
          .createIndex("upstream_calls_by_session")
          .on("upstream_calls")
          .columns(["session_id", "at"])
          .where(sql.ref("session_id"), "is not", null)
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropIndex("upstream_calls_by_session").execute();
        await db.schema
          .createIndex("upstream_calls_by_session")
          .on("upstream_calls")
          .columns(["session_id", "at"])
          .execute();
      },
    },
    "0014_ledger_client": {
      // Which client (the id of its key, never the key) each call was made for, so a client's spend today
      // is read back from the ledger after a restart or once its budget line was forgotten. Only calls made
      // for a client are in the index, which is only ever searched by a client id and a time.
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("upstream_calls").addColumn("client_id", "text").execute();
        await db.schema
          .createIndex("upstream_calls_by_client")
          .on("upstream_calls")
          .columns(["client_id", "at"])
          .where(sql.ref("client_id"), "is not", null)
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropIndex("upstream_calls_by_client").execute();
        await db.schema.alterTable("upstream_calls").dropColumn("client_id").execute();
      },
    },
    "0015_route_rule": {
      // What decided the route (a pre-routing rule, the category, the client naming a model), beside the
      // category, on every call and every request.
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("upstream_calls").addColumn("route_rule", "text").execute();
        await db.schema.alterTable("api_requests").addColumn("route_rule", "text").execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.alterTable("api_requests").dropColumn("route_rule").execute();
        await db.schema.alterTable("upstream_calls").dropColumn("route_rule").execute();
      },
    },
    "0016_request_record": {
      // One request explained (GET /requests/{id}): the request log row keeps the routing trace, the
      // client it was made for (the id of its key, never the key), and the run it started; both tables are
      // searched by request id. Calls made outside a request (background work) need no entry in that index.
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("api_requests").addColumn("routing_trace", "text").execute();
        await db.schema.alterTable("api_requests").addColumn("client_id", "text").execute();
        await db.schema.alterTable("api_requests").addColumn("workflow_id", "text").execute();
        await db.schema
          .createIndex("api_requests_by_request")
          .on("api_requests")
          .column("request_id")
          .execute();
        await db.schema
          .createIndex("upstream_calls_by_request")
          .on("upstream_calls")
          .column("request_id")
          .where(sql.ref("request_id"), "is not", null)
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropIndex("upstream_calls_by_request").execute();
        await db.schema.dropIndex("api_requests_by_request").execute();
        await db.schema.alterTable("api_requests").dropColumn("workflow_id").execute();
        await db.schema.alterTable("api_requests").dropColumn("client_id").execute();
        await db.schema.alterTable("api_requests").dropColumn("routing_trace").execute();
      },
    },
    "0017_session_history": {
      // A conversation's running totals and its history policy's state on the session row, so a turn reads
      // the row and the window's messages only: the messages from window_start on (by the (session_id, id)
      // index) are sent verbatim, those before it are folded into the summary. Sessions are swept by
      // updated_at once idle for the configured days.
      async up(db: Kysely<unknown>) {
        const zero = (c: ColumnDefinitionBuilder) => c.notNull().defaultTo(0);
        await db.schema.alterTable("sessions").addColumn("message_count", "integer", zero).execute();
        await db.schema.alterTable("sessions").addColumn("total_tokens", "integer", zero).execute();
        await db.schema.alterTable("sessions").addColumn("window_start", "integer", zero).execute();
        await db.schema.alterTable("sessions").addColumn("window_tokens", "integer", zero).execute();
        await db.schema.alterTable("sessions").addColumn("summary", "text").execute();
        await db.schema.alterTable("sessions").addColumn("summary_tokens", "integer", zero).execute();
        await db.schema.alterTable("sessions").addColumn("summarized_messages", "integer", zero).execute();
        // Sessions stored before this migration: their totals from their messages, the whole history as window.
        await sql`update sessions set
            message_count = (select count(*) from messages m where m.session_id = sessions.id),
            total_tokens = coalesce((select sum(m.tokens) from messages m where m.session_id = sessions.id), 0),
            window_tokens = coalesce((select sum(m.tokens) from messages m where m.session_id = sessions.id), 0)`.execute(
          db,
        );
        await db.schema.createIndex("sessions_by_updated").on("sessions").column("updated_at").execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropIndex("sessions_by_updated").execute();
        for (const column of [
          "summarized_messages",
          "summary_tokens",
          "summary",
          "window_tokens",
          "window_start",
          "total_tokens",
          "message_count",
        ]) {
          await db.schema.alterTable("sessions").dropColumn(column).execute();
        }
      },
    },
    "0018_prompt_cache": {
      // Of a call's prompt tokens, those read from and written to the upstream's prompt cache, and what
      // caching saved at the model's prices (negative when writing cost more than reading saved).
      async up(db: Kysely<unknown>) {
        await db.schema
          .alterTable("upstream_calls")
          .addColumn("cache_read_tokens", "integer", (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .alterTable("upstream_calls")
          .addColumn("cache_write_tokens", "integer", (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .alterTable("upstream_calls")
          .addColumn("cache_saved_usd", type.real, (c) => c.notNull().defaultTo(0))
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.alterTable("upstream_calls").dropColumn("cache_saved_usd").execute();
        await db.schema.alterTable("upstream_calls").dropColumn("cache_write_tokens").execute();
        await db.schema.alterTable("upstream_calls").dropColumn("cache_read_tokens").execute();
      },
    },
  };
}

// SQLite cannot drop AUTOINCREMENT from a table, so the table is copied into one declared without it (its
// stored definition, every column added since included, minus that word), in one transaction, and its
// indexes are made again. The ids are copied as they are.
async function rebuildWithoutAutoincrement(db: Kysely<unknown>, table: string): Promise<void> {
  const definitions = await sql<{ type: string; sql: string }>`
    select type, sql from sqlite_master where tbl_name = ${table} and sql is not null`.execute(db);
  const create = definitions.rows.find((row) => row.type === "table")?.sql;
  if (!create || !/\bautoincrement\b/i.test(create)) return;
  const indexes = definitions.rows.filter((row) => row.type === "index").map((row) => row.sql);
  const rebuilt = `${table}_rebuilt`;
  const createRebuilt = create
    .replace(/\s+autoincrement\b/i, "")
    .replace(/^create table (if not exists )?("?)\w+\2/i, `create table "${rebuilt}"`);
  if (!createRebuilt.includes(`"${rebuilt}"`))
    throw new Error(`cannot read the definition of table ${table}`);
  await db.transaction().execute(async (trx) => {
    await sql.raw(createRebuilt).execute(trx);
    await sql`insert into ${sql.table(rebuilt)} select * from ${sql.table(table)}`.execute(trx);
    await sql`drop table ${sql.table(table)}`.execute(trx);
    await sql`alter table ${sql.table(rebuilt)} rename to ${sql.table(table)}`.execute(trx);
    for (const index of indexes) await sql.raw(index).execute(trx);
  });
}

export function migrationProvider(dialect: SqlDialectName): MigrationProvider {
  return { getMigrations: async () => migrationsFor(dialect) };
}
