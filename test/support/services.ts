import { randomUUID } from "node:crypto";
import pg from "pg";
import { isPostgresUrl } from "../../src/store/open-store.ts";
import { migrationLockKey } from "../../src/store/sql-store.ts";

// The PostgreSQL server tests may use, from DATABASE_URL (set by CI). Without it, Postgres tests are skipped
// and say so.
export const postgresUrl = isPostgresUrl(process.env.DATABASE_URL ?? "")
  ? process.env.DATABASE_URL
  : undefined;

export const postgresSkipReason = "DATABASE_URL does not name a PostgreSQL database: Postgres tests skipped";

// A fresh schema per test, so tests never see each other's rows; the URL makes it the connection's search path.
export async function freshPostgresSchema(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!postgresUrl) throw new Error(postgresSkipReason);
  const schema = `test_${randomUUID().replaceAll("-", "")}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const separator = postgresUrl.includes("?") ? "&" : "?";
  return {
    url: `${postgresUrl}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    drop: async () => {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      // Under the migrations' advisory lock: a migration elsewhere reads the catalog of every schema, and
      // fails if one disappears under it.
      await client.query("select pg_advisory_lock($1)", [migrationLockKey]);
      try {
        await client.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await client.query("select pg_advisory_unlock($1)", [migrationLockKey]);
        await client.end();
      }
    },
  };
}

// The Redis server tests may use, from REDIS_URL (set by CI); without it, cluster tests are skipped.
export const redisUrl = /^rediss?:\/\//.test(process.env.REDIS_URL ?? "") ? process.env.REDIS_URL : undefined;
export const clusterSkipReason =
  "DATABASE_URL (PostgreSQL) and REDIS_URL are not both set: cluster tests skipped";
