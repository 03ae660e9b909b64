import type { Insertable } from "kysely";
import { batchInsert } from "./batch-insert.ts";
import type { SqlDialectName } from "./migrations.ts";
import type { MessagesTable, SessionsTable } from "./schema.ts";

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

// A session's row as a group of turns writes it: the counts are the group's, added to the stored totals.
const sessionColumns = {
  id: "text",
  created_at: "text",
  updated_at: "text",
  message_count: "integer",
  total_tokens: "integer",
  window_tokens: "integer",
} as const satisfies Partial<Record<keyof Insertable<SessionsTable>, "text" | "integer">>;

// The writes of conversation turns, each statement text built once for this database's dialect (see
// batch-insert.ts): a group of turns touches its sessions in one statement and appends its messages in one.
export function sessionQueries(dialect: SqlDialectName) {
  return {
    // Creates each session, or marks it as used now and adds the turns to its running totals (each id at
    // most once per statement). New messages always join the window: they are the newest.
    touchSessions: batchInsert(
      "sessions",
      sessionColumns,
      dialect,
      " on conflict (id) do update set updated_at = excluded.updated_at," +
        " message_count = sessions.message_count + excluded.message_count," +
        " total_tokens = sessions.total_tokens + excluded.total_tokens," +
        " window_tokens = sessions.window_tokens + excluded.window_tokens",
    ),
    // Messages, in the order given (their ids follow that order).
    insertMessages: batchInsert("messages", messageColumns, dialect),
  };
}
