import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import type { Clock } from "../../src/core/clock.ts";
import { openStore } from "../../src/store/open-store.ts";
import type { Store } from "../../src/store/store.ts";
import { freshPostgresSchema, postgresSkipReason, postgresUrl } from "./services.ts";

// Runs SQL on a connection of its own: how the store's database plans or holds what the store wrote.
export type Query = (text: string) => Promise<Record<string, unknown>[]>;

export interface StoreBackend {
  readonly name: string;
  readonly skip?: string;
  // `reopen` opens another store on the same database (a restart, or a second instance).
  open(): Promise<{ store: Store; query: Query; drop: () => Promise<void>; reopen: () => Promise<Store> }>;
}

// The store on a SQLite file (in a folder of its own, named after `prefix`) and on a fresh PostgreSQL schema
// (skipped, saying why, without DATABASE_URL), each with a second connection for looking at what it wrote.
export function storeBackends(prefix: string, clock: Clock): readonly StoreBackend[] {
  return [
    {
      name: "SQLite",
      open: async () => {
        const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
        const file = join(dir, "store.sqlite");
        const store = await openStore({ dataDir: dir, databaseUrl: `sqlite:${file}` }, clock);
        return {
          store,
          reopen: () => openStore({ dataDir: dir, databaseUrl: `sqlite:${file}` }, clock),
          query: async (text) => {
            const db = new DatabaseSync(file, { readOnly: true });
            try {
              return db.prepare(text).all() as Record<string, unknown>[];
            } finally {
              db.close();
            }
          },
          drop: async () => rmSync(dir, { recursive: true, force: true, maxRetries: 5 }),
        };
      },
    },
    {
      name: "PostgreSQL",
      ...(postgresUrl ? {} : { skip: postgresSkipReason }),
      open: async () => {
        const schema = await freshPostgresSchema();
        return {
          store: await openStore({ dataDir: ".", databaseUrl: schema.url }, clock),
          reopen: () => openStore({ dataDir: ".", databaseUrl: schema.url }, clock),
          query: async (text) => {
            const client = new pg.Client({ connectionString: schema.url });
            await client.connect();
            try {
              return (await client.query(text)).rows;
            } finally {
              await client.end();
            }
          },
          drop: schema.drop,
        };
      },
    },
  ];
}
