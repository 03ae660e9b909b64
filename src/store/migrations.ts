import { type Kysely, sql } from "kysely";
import type { Migration, MigrationProvider } from "kysely/migration";

// Migrations run at start-up, in order, each once. Add new ones at the end; never edit a shipped one.
const migrations: Record<string, Migration> = {
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
        .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
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
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
