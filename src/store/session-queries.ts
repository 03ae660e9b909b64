import type { Insertable, Kysely } from "kysely";
import { batchInsert } from "./batch-insert.ts";
import type { SqlDialectName } from "./migrations.ts";
import { preparedQuery } from "./prepared-query.ts";
import type { DatabaseSchema, MessagesTable, SessionsTable } from "./schema.ts";

const messageColumns = {
  session_id: "text",
  role: "text",
  content: "text",
  tokens: "integer",
  image_count: "integer",
  category: "text",
  model: "text",
  provider: "text",
  workflow_id: "text",
  created_at: "text",
} as const satisfies Partial<Record<keyof Insertable<MessagesTable>, "text" | "integer">>;

const sessionColumns = {
  id: "text",
  created_at: "text",
  updated_at: "text",
} as const satisfies Record<keyof Insertable<SessionsTable>, "text">;

// The writes of /chat turns, each compiled once for this database's dialect (see prepared-query.ts and
// batch-insert.ts): a group of turns touches its sessions in one statement and appends its messages in one.
export function sessionQueries(db: Kysely<DatabaseSchema>, dialect: SqlDialectName) {
  return {
    // Creates the session, or marks it as used now.
    touchSession: preparedQuery(["id", "now"], (v) =>
      db
        .insertInto("sessions")
        .values({ id: v.id, created_at: v.now, updated_at: v.now })
        .onConflict((oc) => oc.column("id").doUpdateSet({ updated_at: v.now })),
    ),
    // The same for several sessions at once (each id once per statement).
    touchSessions: batchInsert(
      "sessions",
      sessionColumns,
      dialect,
      " on conflict (id) do update set updated_at = excluded.updated_at",
    ),
    // Messages, in the order given (their ids follow that order).
    insertMessages: batchInsert("messages", messageColumns, dialect),
  };
}
