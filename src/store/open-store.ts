import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Kysely, PostgresDialect } from "kysely";
import type { Clock } from "../core/clock.ts";
import { OrchestratorError } from "../core/errors.ts";
import { openNodeSqlite } from "./node-sqlite-adapter.ts";
import type { DatabaseSchema } from "./schema.ts";
import { SqlStore } from "./sql-store.ts";
import { TurnTakingSqliteDialect } from "./sqlite-dialect.ts";
import type { Store } from "./store.ts";

export interface StoreLocation {
  readonly dataDir: string;
  readonly databaseUrl?: string | undefined;
}

// SQLite in the data folder by default; DATABASE_URL may name another SQLite file (sqlite:path or :memory:)
// or a PostgreSQL database (postgres://...). Both go through the same Kysely query layer and migrations.
export async function openStore(location: StoreLocation, clock: Clock): Promise<Store> {
  const url = location.databaseUrl;
  if (url !== undefined && isPostgresUrl(url)) {
    // The PostgreSQL driver is loaded only when a PostgreSQL database is configured.
    const { default: pg } = await import("pg");
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
    try {
      return await SqlStore.open(db, "postgres", clock);
    } catch (error) {
      await db.destroy().catch(() => undefined);
      throw new OrchestratorError({
        kind: "fatal",
        code: "database_unavailable",
        message: `cannot open the PostgreSQL database ${redact(url)}: ${(error as Error).message}`,
        cause: error,
      });
    }
  }
  const path = sqlitePath(location);
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Kysely<DatabaseSchema>({
    dialect: new TurnTakingSqliteDialect({ database: openNodeSqlite(path) }),
  });
  return SqlStore.open(db, "sqlite", clock);
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
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
    message: `DATABASE_URL: unsupported database '${redact(url)}'; use postgres://user:password@host/db, sqlite:/path/to/file.sqlite or :memory:`,
  });
}

// Connection strings carry passwords: never print one.
export function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}
