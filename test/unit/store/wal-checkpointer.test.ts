import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, it } from "node:test";
import { openNodeSqlite } from "../../../src/store/node-sqlite-adapter.ts";
import { type CheckpointPacing, startWalCheckpointer } from "../../../src/store/wal-checkpointer.ts";
import { eventually } from "../../support/eventually.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const until = (condition: () => boolean, what: string) => eventually(what, condition, { timeoutMs: 10_000 });

// A connection set up as the service's is, with the checkpointer in sight: a test can wait until the worker
// has looked at the writes so far, which is when it could have checkpointed them.
function openWatched(path: string, pacing: CheckpointPacing) {
  const database = new DatabaseSync(path);
  database.exec("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0");
  const checkpointer = startWalCheckpointer(path, () => assert.fail("the worker failed"), pacing);
  let written = 0;
  return {
    database,
    checkpointer,
    write(sql: string, ...parameters: string[]) {
      database.prepare(sql).run(...parameters);
      checkpointer.wrote();
      written += 1;
    },
    // Resolves once the worker has looked at every write so far.
    looked: () => until(() => checkpointer.seen() === written, `the worker to look at ${written} writes`),
    close() {
      checkpointer.stop();
      database.close();
    },
  };
}

function freshPath(): string {
  return join(mkdtempSync(join(tmpdir(), "wal-checkpointer-")), "store.sqlite");
}

describe("WAL checkpoints off the event loop", () => {
  it("the service's connection never checkpoints, and the worker moves the log into the database file", async () => {
    const path = freshPath();
    const database = openNodeSqlite(path);
    const pragma = database.prepare("PRAGMA wal_autocheckpoint");
    const [setting] = pragma.all([]) as [{ wal_autocheckpoint: number }];
    assert.equal(setting.wal_autocheckpoint, 0);
    database.prepare("create table notes (id integer primary key, body text not null)").run([]);
    const sizeBefore = statSync(path).size;
    const insert = database.prepare("insert into notes (body) values (?)");
    // About 2 MB of pages: without a checkpoint they stay in the log, not in the database file.
    for (let i = 0; i < 500; i++) insert.run(["x".repeat(4000)]);
    await until(() => statSync(path).size > sizeBefore + 1_000_000, "the worker's checkpoint");
    database.close();
    // What was written is all there for the next connection (which, like the service's, waits while the
    // worker's connection closes and checkpoints what is left).
    const reader = new DatabaseSync(path);
    reader.exec("PRAGMA busy_timeout = 5000");
    assert.equal(reader.prepare("select count(*) as n from notes").get()?.n, 500);
    reader.close();
  });

  it("checkpoints once enough statements have written to the log, not on a timer", async () => {
    const path = freshPath();
    const store = openWatched(path, { intervalMs: 10, everyWrites: 50, maxDelayMs: 60_000 });
    store.write("create table notes (id integer primary key, body text not null)");
    const sizeBefore = statSync(path).size;
    // With the table's creation, 49 writes: one short of the pace.
    for (let i = 0; i < 48; i++) store.write("insert into notes (body) values (?)", "x".repeat(4000));
    // The worker has looked at all 49 writes (and at nothing newer) and left them: that look was its only
    // chance to checkpoint them.
    await store.looked();
    assert.equal(statSync(path).size, sizeBefore, "no checkpoint yet: the pages are still only in the log");
    store.write("insert into notes (body) values (?)", "x".repeat(4000));
    await until(() => statSync(path).size > sizeBefore + 150_000, "the checkpoint after the 50th write");
    store.close();
  });

  it("checkpoints a few writes once the longest delay has passed", async () => {
    const path = freshPath();
    const database = openNodeSqlite(path, { intervalMs: 10, everyWrites: 1_000_000, maxDelayMs: 400 });
    database.prepare("create table notes (id integer primary key, body text not null)").run([]);
    await until(() => statSync(path).size > 0, "the checkpoint of the table's creation");
    const sizeBefore = statSync(path).size;
    const insert = database.prepare("insert into notes (body) values (?)");
    const wroteAt = Date.now();
    for (let i = 0; i < 10; i++) insert.run(["x".repeat(4000)]);
    await until(() => statSync(path).size > sizeBefore + 30_000, "the checkpoint after the delay");
    assert.ok(Date.now() - wroteAt >= 300, "not before the longest delay");
    database.close();
  });

  it("after a checkpoint that a transaction overlapped, checkpoints again until the log starts over", async () => {
    const path = freshPath();
    const store = openWatched(path, { intervalMs: 10, everyWrites: 20, maxDelayMs: 60_000 });
    const insert = () => store.write("insert into notes (body) values (?)", "x".repeat(2000));
    store.write("create table notes (id integer primary key, body text not null)");
    const wal = `${path}-wal`;
    // The log's header counts how many times it has started over (its checkpoint sequence number).
    const startsOver = () => readFileSync(wal).readUInt32BE(12);
    for (let i = 0; i < 18; i++) insert();
    const sizeBefore = statSync(path).size;
    // The paced checkpoint runs while a transaction is open: it copies every committed frame, but the
    // transaction began before that and its commit adds frames, so the log does not start over.
    store.database.exec("begin");
    insert();
    await until(() => statSync(path).size > sizeBefore, "the paced checkpoint");
    store.write("commit");
    const before = startsOver();
    // A few writes, far below the pace, each looked at by the worker before the next (the quiet moments in
    // which it catches up with the log).
    for (let i = 0; i < 5; i++) {
      await store.looked();
      insert();
    }
    assert.ok(startsOver() > before, "the log started over after the worker caught up with it");
    store.close();
  });

  it("a connection opened as soon as another one closed waits for the worker's last checkpoint", async () => {
    const path = freshPath();
    for (let i = 0; i < 30; i++) {
      // Opened again at varying moments of the worker's closing.
      await sleep(i % 4);
      // Opening sets the journal mode, which needs the lock the closing worker may still hold.
      const database = openNodeSqlite(path);
      database
        .prepare("create table if not exists notes (id integer primary key, body text not null)")
        .run([]);
      const insert = database.prepare("insert into notes (body) values (?)");
      for (let j = 0; j < 50; j++) insert.run(["x".repeat(4000)]);
      database.close();
    }
    const reader = openNodeSqlite(path);
    assert.deepEqual(
      reader
        .prepare("select count(*) as n from notes")
        .all([])
        .map((row) => ({ ...(row as object) })),
      [{ n: 1500 }],
    );
    reader.close();
  });

  it("an in-memory database keeps SQLite's own checkpoints and starts no worker", () => {
    const database = openNodeSqlite(":memory:");
    const [row] = database.prepare("PRAGMA wal_autocheckpoint").all([]) as [{ wal_autocheckpoint: number }];
    assert.notEqual(row.wal_autocheckpoint, 0);
    database.close();
  });

  it("gives checkpoints back to the connection when the worker cannot do them", async () => {
    const restored: string[] = [];
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on("warning", onWarning);
    try {
      // A folder is not a database: the worker's connection fails.
      startWalCheckpointer(
        mkdtempSync(join(tmpdir(), "wal-checkpointer-")),
        () => restored.push("restored"),
        { intervalMs: 10, everyWrites: 1, maxDelayMs: 0 },
      );
      await until(() => restored.length > 0 && warnings.length > 0, "the fallback");
      assert.deepEqual(restored, ["restored"]);
      assert.match(warnings[0] ?? "", /SQLite checkpoints are back on the main thread/);
    } finally {
      process.off("warning", onWarning);
    }
  });
});
