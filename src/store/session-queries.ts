import type { Insertable, Kysely } from "kysely";
import { preparedQuery } from "./prepared-query.ts";
import type { DatabaseSchema, MessagesTable } from "./schema.ts";

const messageColumns = [
  "session_id",
  "role",
  "content",
  "tokens",
  "image_count",
  "category",
  "model",
  "provider",
  "workflow_id",
  "created_at",
] as const satisfies readonly (keyof Insertable<MessagesTable>)[];

// The queries of every /chat turn (its session touched, its messages appended), each compiled once for
// this database's dialect (see prepared-query.ts).
export function sessionQueries(db: Kysely<DatabaseSchema>) {
  return {
    // Creates the session, or marks it as used now.
    touchSession: preparedQuery(["id", "now"], (v) =>
      db
        .insertInto("sessions")
        .values({ id: v.id, created_at: v.now, updated_at: v.now })
        .onConflict((oc) => oc.column("id").doUpdateSet({ updated_at: v.now })),
    ),
    // One message; a turn's messages are inserted one after the other in one transaction.
    insertMessage: preparedQuery(messageColumns, (v) => db.insertInto("messages").values(v)),
  };
}
