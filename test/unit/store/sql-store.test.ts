import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { Clock } from "../../../src/core/clock.ts";
import { openStore } from "../../../src/store/open-store.ts";
import type { Store } from "../../../src/store/store.ts";

const fixedClock: Clock = { now: () => 0, isoNow: () => "2026-01-01T00:00:00.000Z" };
const sessionId = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f";

describe("SQL store (SQLite)", () => {
  let store: Store;
  beforeEach(async () => {
    store = await openStore({ dataDir: ".", databaseUrl: ":memory:" }, fixedClock);
  });
  afterEach(async () => {
    await store.close();
  });

  it("creates a session on first write and keeps messages in order", async () => {
    assert.equal(await store.getSession(sessionId), undefined);
    await store.appendMessages(sessionId, [
      { role: "user", content: "hi", tokens: 1 },
      { role: "assistant", content: "hello", tokens: 1, model: "m", provider: "openrouter", category: "M" },
    ]);
    await store.appendMessages(sessionId, [{ role: "user", content: "again", tokens: 1, imageCount: 2 }]);
    const messages = await store.listMessages(sessionId);
    assert.deepEqual(
      messages.map((m) => [m.role, m.content]),
      [
        ["user", "hi"],
        ["assistant", "hello"],
        ["user", "again"],
      ],
    );
    assert.equal(messages[1]?.category, "M");
    assert.equal(messages[2]?.imageCount, 2);
    assert.ok(await store.getSession(sessionId));
  });

  it("writes all of a turn or none of it", async () => {
    await assert.rejects(
      store.appendMessages(sessionId, [
        { role: "user", content: "kept?", tokens: 1 },
        { role: "assistant", content: null as unknown as string, tokens: 1 },
      ]),
    );
    assert.deepEqual(await store.listMessages(sessionId), []);
    assert.equal(await store.getSession(sessionId), undefined);
  });

  it("records runs and appends their result to the session in one step", async () => {
    await store.ensureSession(sessionId);
    const run = await store.createRun({
      id: "run-1",
      sessionId,
      kind: "chat",
      request: { message: "big task" },
    });
    assert.equal(run.status, "running");
    await store.finishRun(
      "run-1",
      {
        status: "completed",
        result: "done",
        model: "m",
        usage: { promptTokens: 1, completionTokens: 2, costUsd: 0.5 },
      },
      [{ role: "assistant", content: "done", tokens: 1, workflowId: "run-1" }],
    );
    const finished = await store.getRun("run-1");
    assert.equal(finished?.status, "completed");
    assert.deepEqual(finished?.request, { message: "big task" });
    assert.deepEqual(finished?.usage, { promptTokens: 1, completionTokens: 2, costUsd: 0.5 });
    assert.equal(finished?.finishedAt, "2026-01-01T00:00:00.000Z");
    assert.equal((await store.listMessages(sessionId))[0]?.workflowId, "run-1");
  });

  it("marks runs left running by a previous process as interrupted, on disk", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "store-")), "db.sqlite");
    const first = await openStore({ dataDir: ".", databaseUrl: `sqlite:${file}` }, fixedClock);
    await first.createRun({ id: "cut-off", sessionId: null, kind: "chat", request: {} });
    await first.close();
    const second = await openStore({ dataDir: ".", databaseUrl: `sqlite:${file}` }, fixedClock);
    assert.equal(await second.markRunningAsInterrupted(), 1);
    assert.equal((await second.getRun("cut-off"))?.status, "interrupted");
    await second.close();
  });

  it("refuses database URLs it cannot serve, without echoing credentials", async () => {
    await assert.rejects(
      openStore({ dataDir: ".", databaseUrl: "postgres://user:secret@db/app" }, fixedClock),
      (error: Error) => !error.message.includes("secret") && /DATABASE_URL/.test(error.message),
    );
  });
});
