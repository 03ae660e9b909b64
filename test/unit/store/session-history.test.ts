import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { SessionSweep } from "../../../src/chat/session-sweep.ts";
import { readWindow } from "../../../src/chat/window-read.ts";
import type { Clock } from "../../../src/core/clock.ts";
import { createLogger } from "../../../src/logger.ts";
import type { NewMessage, Store } from "../../../src/store/store.ts";
import { storeBackends } from "../../support/store-backends.ts";

// The store's clock: the time each write stamps, moved on by the tests.
let now = Date.parse("2026-03-01T00:00:00.000Z");
const clock: Clock = { now: () => now, isoNow: () => new Date(now).toISOString() };
const day = 24 * 60 * 60 * 1000;

const turn = (n: number, tokens = 10): NewMessage[] => [
  { role: "user", content: `question ${n}`, tokens },
  { role: "assistant", content: `answer ${n}`, tokens },
];

const quiet = createLogger("silent");

for (const backend of storeBackends("session-history", clock))
  describe(`session history state (${backend.name})`, { skip: backend.skip ?? false }, () => {
    let store: Store;
    let reopen: () => Promise<Store>;
    let drop: () => Promise<void>;
    const opened: Store[] = [];
    beforeEach(async () => {
      now = Date.parse("2026-03-01T00:00:00.000Z");
      ({ store, drop, reopen } = await backend.open());
    });
    afterEach(async () => {
      for (const other of opened.splice(0)) await other.close();
      await store.close();
      await drop();
    });

    it("keeps running totals on the session row, across concurrent turns and a reopened store", async () => {
      await store.ensureSession("s");
      await Promise.all([
        store.appendMessages("s", turn(1)),
        store.appendMessages("s", turn(2, 5)),
        store.appendMessages("other", turn(3)),
      ]);
      await store.createRun({ id: "run-1", sessionId: "s", kind: "chat", request: {} }, [
        { role: "user", content: "do a big thing", tokens: 7 },
      ]);
      const state = await store.getSession("s");
      assert.equal(state?.messageCount, 5);
      assert.equal(state?.totalTokens, 37);
      assert.equal(state?.windowTokens, 37);
      assert.equal(state?.windowStart, 0);
      assert.equal(state?.summary, null);
      const again = await reopen();
      opened.push(again);
      assert.deepEqual(await again.getSession("s"), state);
      assert.equal((await again.getSession("other"))?.messageCount, 2);
    });

    it("moves the window start with a fold, once: a second fold of the same window writes nothing", async () => {
      for (let n = 1; n <= 4; n++) await store.appendMessages("s", turn(n));
      const all = await store.listMessages("s");
      const third = all[4];
      assert.ok(third);
      const fold = {
        expectedWindowStart: 0,
        windowStart: third.id,
        foldedMessages: 4,
        foldedTokens: 40,
        summary: { text: "they asked twice", tokens: 4 },
      };
      assert.equal(await store.foldHistory("s", fold), true);
      assert.equal(await store.foldHistory("s", fold), false);
      const state = await store.getSession("s");
      assert.equal(state?.windowStart, third.id);
      assert.equal(state?.windowTokens, 40);
      assert.equal(state?.totalTokens, 80);
      assert.equal(state?.summary, "they asked twice");
      assert.equal(state?.summaryTokens, 4);
      assert.equal(state?.summarizedMessages, 4);
      assert.deepEqual(
        (await store.listMessagesFrom("s", third.id)).map((m) => m.content),
        ["question 3", "answer 3", "question 4", "answer 4"],
      );
      // New turns join the window.
      await store.appendMessages("s", turn(5));
      assert.equal((await store.getSession("s"))?.windowTokens, 60);
      // A fold without a summary (turns dropped) leaves the summary as it was.
      const fifth = (await store.listMessagesFrom("s", third.id))[4];
      assert.ok(fifth);
      await store.foldHistory("s", {
        expectedWindowStart: third.id,
        windowStart: fifth.id,
        foldedMessages: 4,
        foldedTokens: 40,
      });
      assert.equal((await store.getSession("s"))?.summary, "they asked twice");
      assert.equal((await store.getSession("s"))?.windowTokens, 20);
    });

    it("reads the whole window, or only its newest messages once it has grown far past maxTokens", async () => {
      for (let n = 1; n <= 150; n++) await store.appendMessages("s", turn(n));
      const state = await store.getSession("s");
      assert.ok(state);
      assert.equal((await readWindow(store, state, 5_000)).length, 300);
      // 3000 tokens of window, 100 sent: one page of 64 messages, the newest.
      const tail = await readWindow(store, state, 100);
      assert.equal(tail.length, 64);
      assert.equal(tail.at(-1)?.content, "answer 150");
      // Several pages when one holds too few tokens, never past the window's start.
      const deep = await readWindow(store, state, 1_000);
      assert.equal(deep.length, 128);
      assert.equal(deep.at(-1)?.content, "answer 150");
      const all = await store.listMessages("s");
      const windowStart = all[250]?.id ?? 0;
      const short = await readWindow(store, { ...state, windowStart, windowTokens: 5_000 }, 1_000);
      assert.equal(short.length, 50);
      assert.equal(short[0]?.id, windowStart);
      assert.equal((await readWindow(store, { ...state, windowStart, windowTokens: 500 }, 1_000)).length, 50);
    });

    it("pages the history newest first, each page oldest first", async () => {
      for (let n = 1; n <= 5; n++) await store.appendMessages("s", turn(n));
      const newest = await store.listMessages("s", { limit: 3 });
      assert.deepEqual(
        newest.map((m) => m.content),
        ["answer 4", "question 5", "answer 5"],
      );
      const older = await store.listMessages("s", { limit: 3, before: newest[0]?.id });
      assert.deepEqual(
        older.map((m) => m.content),
        ["question 3", "answer 3", "question 4"],
      );
    });

    it("deletes one session now, unless a workflow of it is still running", async () => {
      await store.appendMessages("s", turn(1));
      await store.appendMessages("kept", turn(2));
      await store.createRun({ id: "run-1", sessionId: "busy", kind: "chat", request: {} }, turn(3));
      assert.equal(await store.deleteSession("s"), "deleted");
      assert.equal(await store.getSession("s"), undefined);
      assert.deepEqual(await store.listMessages("s"), []);
      assert.equal(await store.deleteSession("s"), "not_found");
      assert.equal(await store.deleteSession("busy"), "running");
      assert.equal((await store.listMessages("busy")).length, 2);
      await store.finishRun("run-1", { status: "completed", result: "done" });
      assert.equal(await store.deleteSession("busy"), "deleted");
      assert.equal((await store.listMessages("kept")).length, 2);
    });

    it("sweeps only the sessions idle past the time to live, in batches, and again to no effect", async () => {
      await store.appendMessages("old", turn(1));
      await store.appendMessages("old-busy", turn(2));
      await store.createRun({ id: "run-1", sessionId: "old-busy", kind: "chat", request: {} });
      now += 10 * day;
      await store.appendMessages("recent", turn(3));
      await store.appendMessages("used-again", turn(4));
      now += 21 * day;
      await store.appendMessages("used-again", turn(5));
      const sweep = new SessionSweep({
        store,
        clock,
        logger: quiet,
        settings: { ttlDays: 30, intervalMinutes: 60 },
      });
      assert.equal(await sweep.sweep(), 1);
      assert.equal(await store.getSession("old"), undefined);
      assert.deepEqual(await store.listMessages("old"), []);
      assert.ok(await store.getSession("old-busy"), "a session with a running workflow stays");
      assert.ok(await store.getSession("recent"));
      assert.equal((await store.listMessages("used-again")).length, 4);
      assert.equal(await sweep.sweep(), 0);
      // Another instance sweeping at the same time deletes each session once.
      now += 40 * day;
      const second = await reopen();
      opened.push(second);
      const other = new SessionSweep({
        store: second,
        clock,
        logger: quiet,
        settings: { ttlDays: 30, intervalMinutes: 60 },
      });
      await store.finishRun("run-1", { status: "completed", result: "done" });
      const [a, b] = await Promise.all([sweep.sweep(), other.sweep()]);
      assert.equal(a + b, 3);
      assert.deepEqual(await store.listMessages("recent"), []);
    });

    it("deletes more sessions than one batch holds", async () => {
      const ids = Array.from({ length: 1_100 }, (_, i) => `s${i}`);
      for (let i = 0; i < ids.length; i += 100) {
        await Promise.all(ids.slice(i, i + 100).map((id) => store.appendMessages(id, turn(1))));
      }
      now += 31 * day;
      assert.equal(await store.deleteIdleSessions(new Date(now - 30 * day).toISOString(), 500), 500);
      const sweep = new SessionSweep({
        store,
        clock,
        logger: quiet,
        settings: { ttlDays: 30, intervalMinutes: 60 },
      });
      assert.equal(await sweep.sweep(), 600);
    });
  });
