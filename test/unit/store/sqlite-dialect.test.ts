import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Kysely, sql } from "kysely";
import { openNodeSqlite } from "../../../src/store/node-sqlite-adapter.ts";
import { TurnTakingSqliteDialect } from "../../../src/store/sqlite-dialect.ts";

interface Db {
  counter: { id: number; value: number };
}

async function open(): Promise<Kysely<Db>> {
  const db = new Kysely<Db>({
    dialect: new TurnTakingSqliteDialect({ database: openNodeSqlite(":memory:") }),
  });
  await sql`create table counter (id integer primary key, value integer not null)`.execute(db);
  await db.insertInto("counter").values({ id: 1, value: 0 }).execute();
  return db;
}

describe("TurnTakingSqliteDialect", () => {
  it("keeps transactions apart when many queue for the one connection", async () => {
    const db = await open();
    await Promise.all(
      Array.from({ length: 300 }, () =>
        db.transaction().execute(async (trx) => {
          const row = await trx
            .selectFrom("counter")
            .select("value")
            .where("id", "=", 1)
            .executeTakeFirstOrThrow();
          await trx
            .updateTable("counter")
            .set({ value: row.value + 1 })
            .where("id", "=", 1)
            .execute();
        }),
      ),
    );
    const row = await db.selectFrom("counter").select("value").executeTakeFirstOrThrow();
    assert.equal(row.value, 300);
    await db.destroy();
  });

  it("rolls a failed transaction back and serves the next one", async () => {
    const db = await open();
    const failing = db.transaction().execute(async (trx) => {
      await trx.updateTable("counter").set({ value: 99 }).where("id", "=", 1).execute();
      throw new Error("boom");
    });
    const next = db.updateTable("counter").set({ value: sql`value + 1` }).where("id", "=", 1).execute();
    await assert.rejects(failing, /boom/);
    await next;
    const row = await db.selectFrom("counter").select("value").executeTakeFirstOrThrow();
    assert.equal(row.value, 1);
    await db.destroy();
  });

  it("lets timers run while a long queue of statements is worked through", async () => {
    const db = await open();
    let timerFiredAfter: number | undefined;
    let done = 0;
    setTimeout(() => {
      timerFiredAfter = done;
    }, 0);
    // Each statement is slow enough that the queue takes far longer than one slice.
    const slow = sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < 5000) select count(*) from n`;
    await Promise.all(
      Array.from({ length: 100 }, () =>
        slow.execute(db).then(() => {
          done++;
        }),
      ),
    );
    assert.ok(
      timerFiredAfter !== undefined && timerFiredAfter < 100,
      `the timer ran after ${timerFiredAfter} of 100`,
    );
    await db.destroy();
  });
});
