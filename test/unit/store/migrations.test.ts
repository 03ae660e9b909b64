import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Kysely, sql } from "kysely";
import { Migrator } from "kysely/migration";
import type { Clock } from "../../../src/core/clock.ts";
import { migrationProvider } from "../../../src/store/migrations.ts";
import { openNodeSqlite } from "../../../src/store/node-sqlite-adapter.ts";
import { openStore } from "../../../src/store/open-store.ts";
import { TurnTakingSqliteDialect } from "../../../src/store/sqlite-dialect.ts";
import { upstreamCall } from "../../support/upstream-call.ts";

const clock: Clock = { now: () => 0, isoNow: () => "2026-01-01T00:00:00.000Z" };
const at = "2026-01-01T00:00:00.000Z";

function openRaw(path: string): Kysely<unknown> {
  return new Kysely({ dialect: new TurnTakingSqliteDialect({ database: openNodeSqlite(path) }) });
}

// A database as the release before migration 0013 left it, with rows in every table that migration copies.
async function databaseBefore0013(path: string): Promise<void> {
  const db = openRaw(path);
  const { error } = await new Migrator({ db, provider: migrationProvider("sqlite") }).migrateTo(
    "0012_run_estimate",
  );
  assert.equal(error, undefined);
  await sql`insert into sessions (id, created_at, updated_at) values ('s1', ${at}, ${at})`.execute(db);
  for (const content of ["first", "second", "third"]) {
    await sql`insert into messages (session_id, role, content, tokens, created_at)
      values ('s1', 'user', ${content}, 1, ${at})`.execute(db);
  }
  // A gap in the ids, as a deleted row would leave: copied ids must stay exactly as they were.
  await sql`update messages set id = 7 where content = 'third'`.execute(db);
  const call = (session: string | null) => sql`insert into upstream_calls
    (at, session_id, purpose, kind, role, model, provider, outcome, prompt_tokens, completion_tokens,
     latency_ms, cost_usd, cost_source, baseline_usd)
    values (${at}, ${session}, 'answer', 'chat', 'medium_ai', 'm', 'openrouter', 'ok', 1, 1, 1, 0.5, 'upstream', 1)`;
  await call("s1").execute(db);
  await call(null).execute(db);
  await sql`insert into api_requests (at, request_id, method, endpoint, status, latency_ms)
    values (${at}, 'r1', 'POST', '/chat', 200, 3)`.execute(db);
  await sql`insert into shadow_samples (at, routed_role, routed_model, baseline_role, status)
    values (${at}, 'medium_ai', 'm', 'high_ai', 'pending')`.execute(db);
  await db.destroy();
}

describe("migration 0013: fewer pages per write (SQLite)", () => {
  it("rebuilds the row-id tables without AUTOINCREMENT, keeping every row, id, index and reference", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "migrate-")), "orchestrator.sqlite");
    await databaseBefore0013(path);

    const store = await openStore({ dataDir: ".", databaseUrl: `sqlite:${path}` }, clock);
    await store.appendMessages("s1", [{ role: "assistant", content: "fourth", tokens: 1 }]);
    const messages = await store.listMessages("s1");
    assert.deepEqual(
      messages.map((m) => m.content),
      ["first", "second", "third", "fourth"],
    );
    // Migration 0017 gave the earlier session its running totals, its whole history as the window.
    const state = await store.getSession("s1");
    assert.equal(state?.messageCount, 4);
    assert.equal(state?.totalTokens, 4);
    assert.equal(state?.windowTokens, 4);
    assert.equal(state?.windowStart, 0);
    await store.close();

    const db = openRaw(path);
    const schema = await sql<{ type: string; name: string; sql: string }>`
      select type, name, sql from sqlite_master where sql is not null`.execute(db);
    const sqlOf = (name: string) => schema.rows.find((row) => row.name === name)?.sql ?? "";
    for (const table of ["messages", "upstream_calls", "api_requests", "shadow_samples"]) {
      assert.match(sqlOf(table), /primary key/i, table);
      assert.doesNotMatch(sqlOf(table), /autoincrement/i, table);
    }
    assert.equal(sqlOf("workflow_runs").length > 0, true);
    assert.match(sqlOf("messages"), /references "sessions"/i);
    for (const index of [
      "messages_by_session",
      "upstream_calls_by_time",
      "api_requests_by_time",
      "shadow_samples_by_time",
      "shadow_samples_by_request",
    ]) {
      assert.notEqual(sqlOf(index), "", `index ${index} is missing`);
    }
    assert.match(sqlOf("upstream_calls_by_session"), /where "session_id" is not null/i);

    const ids = await sql<{
      id: number;
      content: string;
    }>`select id, content from messages order by id`.execute(db);
    assert.deepEqual(
      ids.rows.map((row) => [row.id, row.content]),
      [
        [1, "first"],
        [2, "second"],
        [7, "third"],
        [8, "fourth"],
      ],
    );
    const counts = await sql<{ calls: number; requests: number; samples: number }>`
      select (select count(*) from upstream_calls) as calls, (select count(*) from api_requests) as requests,
             (select count(*) from shadow_samples) as samples`.execute(db);
    assert.deepEqual({ ...counts.rows[0] }, { calls: 2, requests: 1, samples: 1 });
    const checks = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(db);
    assert.deepEqual(
      checks.rows.map((row) => row.integrity_check),
      ["ok"],
    );
    assert.deepEqual((await sql`pragma foreign_key_check`.execute(db)).rows, []);
    await db.destroy();
  });

  it("keeps the session's calls found through the by-session index, which holds only calls with a session", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "migrate-")), "orchestrator.sqlite");
    const store = await openStore({ dataDir: ".", databaseUrl: `sqlite:${path}` }, clock);
    const entry = { at, requestId: "r", endpoint: "/chat", workflowId: null, category: "M", baselineUsd: 1 };
    await store.usage.recordUsage(
      [
        { ...upstreamCall({ costUsd: 0.25 }), ...entry, sessionId: "s1" },
        { ...upstreamCall({ costUsd: 0.5 }), ...entry, sessionId: null },
      ],
      [],
    );
    assert.equal(await store.usage.spentUsd({ sessionId: "s1" }), 0.25);
    await store.close();

    const db = openRaw(path);
    const plan = await sql<{ detail: string }>`
      explain query plan select * from upstream_calls where session_id = ${"s1"} order by at`.execute(db);
    assert.match(plan.rows.map((row) => row.detail).join("\n"), /upstream_calls_by_session/);
    const indexed = await sql<{ entries: number }>`
      select count(*) as entries from upstream_calls indexed by upstream_calls_by_session
      where session_id is not null`.execute(db);
    assert.equal(indexed.rows[0]?.entries, 1);
    await db.destroy();
  });
});
