import { CompiledQuery, type Kysely, type Transaction } from "kysely";
import type { SqlDialectName } from "./migrations.ts";
import type { DatabaseSchema } from "./schema.ts";

export type ColumnType = "text" | "integer" | "real";

export type Row<Columns> = { [K in keyof Columns]: string | number | null };

// A batch of rows written by prepared statements whose SQL text never changes. PostgreSQL gets the whole
// batch as one JSON parameter, unpacked by jsonb_to_recordset: one round trip. SQLite, in the process,
// takes the rows up to `sqliteRowsPerInsert` at a time in one multi-row INSERT, whose statement is
// prepared once per row count (see node-sqlite-adapter.ts): one call into SQLite, and one query through
// Kysely, per group of rows instead of per row. `inTransaction` writes the rows as part of a transaction
// the caller holds (a task's result and its calls' ledger rows commit together).
export interface BatchInsert<Row> {
  (db: Kysely<DatabaseSchema>, rows: readonly Row[]): Promise<void>;
  inTransaction(trx: Transaction<DatabaseSchema>, rows: readonly Row[]): Promise<void>;
}

// Rows per SQLite INSERT: the statement's parameters (rows × columns) stay far below SQLite's limit of
// 32766, and at most this many statement texts are prepared per table.
const sqliteRowsPerInsert = 32;

export function batchInsert<Columns extends Record<string, ColumnType>>(
  table: keyof DatabaseSchema,
  columns: Columns,
  dialect: SqlDialectName,
  // Appended to every statement, e.g. an `on conflict` clause (the same text in both dialects).
  onConflict = "",
): BatchInsert<Row<Columns>> {
  const names = Object.keys(columns) as (keyof Columns & string)[];
  const into = `insert into ${table} (${names.join(", ")})`;
  if (dialect === "postgres") {
    const types = names.map((n) => `${n} ${columns[n] === "real" ? "double precision" : columns[n]}`);
    const text = `${into} select ${names.join(", ")} from jsonb_to_recordset($1::jsonb) as r(${types.join(", ")})${onConflict}`;
    const write = async (db: Kysely<DatabaseSchema>, rows: readonly Row<Columns>[]) => {
      if (rows.length === 0) return;
      await db.executeQuery(CompiledQuery.raw(text, [JSON.stringify(rows)]));
    };
    return Object.assign(write, { inTransaction: write });
  }
  const oneRow = `(${names.map(() => "?").join(", ")})`;
  const texts: string[] = [];
  const textFor = (count: number) => {
    texts[count] ??= `${into} values ${Array.from({ length: count }, () => oneRow).join(", ")}${onConflict}`;
    return texts[count];
  };
  const inTransaction = async (trx: Transaction<DatabaseSchema>, rows: readonly Row<Columns>[]) => {
    for (let start = 0; start < rows.length; start += sqliteRowsPerInsert) {
      const end = Math.min(rows.length, start + sqliteRowsPerInsert);
      const parameters: unknown[] = [];
      for (let at = start; at < end; at++) {
        const row = rows[at] as Row<Columns>;
        for (const name of names) parameters.push(row[name]);
      }
      await trx.executeQuery(CompiledQuery.raw(textFor(end - start), parameters));
    }
  };
  const write = async (db: Kysely<DatabaseSchema>, rows: readonly Row<Columns>[]) => {
    if (rows.length === 0) return;
    await db.transaction().execute((trx) => inTransaction(trx, rows));
  };
  return Object.assign(write, { inTransaction });
}
