import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Kysely, SqliteDialect } from "kysely";
import type { Clock } from "../core/clock.ts";
import { OrchestratorError } from "../core/errors.ts";
import { openNodeSqlite } from "./node-sqlite-adapter.ts";
import type { DatabaseSchema } from "./schema.ts";
import { SqlStore } from "./sql-store.ts";
import type { Store } from "./store.ts";

export interface StoreLocation {
  readonly dataDir: string;
  readonly databaseUrl?: string | undefined;
}

// SQLite in the data folder by default; DATABASE_URL may name another SQLite file (sqlite:path or :memory:).
export async function openStore(location: StoreLocation, clock: Clock): Promise<Store> {
  const path = sqlitePath(location);
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: openNodeSqlite(path) }) });
  return SqlStore.open(db, clock);
}

export function sqlitePath(location: StoreLocation): string {
  const url = location.databaseUrl;
  if (url === undefined || url === "") return resolve(location.dataDir, "orchestrator.sqlite");
  if (url === ":memory:" || url === "sqlite::memory:") return ":memory:";
  const match = /^(?:sqlite|file):(?:\/\/)?(.+)$/.exec(url);
  if (match?.[1]) return resolve(match[1]);
  throw new OrchestratorError({
    kind: "fatal",
    code: "invalid_config",
    message: `DATABASE_URL: unsupported database '${url.replace(/\/\/[^@/]*@/, "//***@")}'; this version stores data in SQLite (use sqlite:/path/to/file.sqlite)`,
  });
}
