import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { SqliteDatabase, SqliteStatement } from "kysely";
import {
  type CheckpointPacing,
  defaultCheckpointPacing,
  startWalCheckpointer,
  type WalCheckpointer,
} from "./wal-checkpointer.ts";

// Lets Kysely's SQLite dialect drive Node's built-in node:sqlite, so the embedded store needs no native add-on.
// node:sqlite is synchronous, so every statement runs on the event loop: it must be cheap.
export function openNodeSqlite(
  path: string,
  checkpointPacing: CheckpointPacing = defaultCheckpointPacing,
): SqliteDatabase {
  const database = new DatabaseSync(path);
  // The busy timeout comes first: setting the journal mode takes a lock that another connection to the file
  // (a process stopping, or its checkpoint worker closing) may hold for a moment.
  // WAL with synchronous=NORMAL: a commit no longer waits for fsync (a crash of the process loses nothing;
  // a power cut may lose the last commits, never corrupt the file).
  database.exec(
    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
  );
  // Checkpoints run on a worker thread's connection instead of inside a commit (see wal-checkpointer.ts).
  const checkpointer =
    path === ":memory:"
      ? undefined
      : startWalCheckpointer(
          path,
          () => {
            if (database.isOpen) database.exec(`PRAGMA wal_autocheckpoint = ${defaultAutoCheckpoint}`);
          },
          checkpointPacing,
        );
  if (checkpointer) database.exec("PRAGMA wal_autocheckpoint = 0");
  // Kysely prepares every query it runs; the same SQL text reuses its compiled statement.
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => {
      checkpointer?.stop();
      database.close();
    },
    prepare: (sql) => {
      let statement = statements.get(sql);
      if (!statement) {
        if (statements.size >= maxCachedStatements) statements.clear();
        statement = wrapStatement(database.prepare(sql), sql, checkpointer);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

const maxCachedStatements = 500;
// SQLite's own default threshold, in pages, for a checkpoint run by the committing connection.
const defaultAutoCheckpoint = 1000;

type Params = ReadonlyArray<unknown>;
type SqlValue = null | number | bigint | string | Uint8Array;

function wrapStatement(
  statement: StatementSync,
  sql: string,
  log: WalCheckpointer | undefined,
): SqliteStatement {
  const args = (parameters: Params) => parameters.map(toSqlValue);
  // What the checkpoint worker paces itself by: statements that write (a commit, a write outside a
  // transaction, and the writes inside one, which each add to the log).
  const writes = log !== undefined && writesToLog.test(sql) ? log : undefined;
  return {
    reader: returnsRows(statement, sql),
    all: (parameters) => {
      const rows = statement.all(...args(parameters));
      writes?.wrote();
      return rows;
    },
    run: (parameters) => {
      const result = statement.run(...args(parameters));
      writes?.wrote();
      return result;
    },
    iterate: (parameters) => statement.iterate(...args(parameters)),
  };
}

const writesToLog = /^\s*(insert|update|delete|replace|commit|end|create|drop|alter)\b/i;

function returnsRows(statement: StatementSync, sql: string): boolean {
  if (typeof statement.columns === "function") return statement.columns().length > 0;
  return /^\s*(select|with|pragma|values)\b|\breturning\b/i.test(sql);
}

function toSqlValue(value: unknown): SqlValue {
  if (value === undefined || value === null) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "string") return value;
  if (value instanceof Uint8Array) return value;
  return JSON.stringify(value);
}
