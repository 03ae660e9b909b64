import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { Clock } from "../../../src/core/clock.ts";
import { openStore } from "../../../src/store/open-store.ts";
import type { Store } from "../../../src/store/store.ts";
import type { LedgerEntry } from "../../../src/store/usage-store.ts";
import { freshPostgresSchema, postgresSkipReason, postgresUrl } from "../../support/services.ts";
import { upstreamCall } from "../../support/upstream-call.ts";

const fixedClock: Clock = { now: () => 0, isoNow: () => "2026-01-01T00:00:00.000Z" };
const sessionId = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f";

// One answered call as the ledger records it; each test changes what it is about.
const ledgerEntry = (overrides: Partial<LedgerEntry> = {}): LedgerEntry => ({
  ...upstreamCall({ promptTokens: 10, completionTokens: 5, latencyMs: 12.5, costUsd: 0.000123456789 }),
  at: "2026-01-01T00:00:00.000Z",
  requestId: "r",
  endpoint: "/chat",
  sessionId: null,
  workflowId: null,
  category: "M",
  baselineUsd: 0.001,
  ...overrides,
});

// The same behaviour on both databases: one suite, run against each.
const backends: ReadonlyArray<{
  name: string;
  skip?: string;
  open: () => Promise<{ store: Store; drop?: () => Promise<void> }>;
}> = [
  {
    name: "SQLite",
    open: async () => ({ store: await openStore({ dataDir: ".", databaseUrl: ":memory:" }, fixedClock) }),
  },
  {
    name: "PostgreSQL",
    ...(postgresUrl ? {} : { skip: postgresSkipReason }),
    open: async () => {
      const schema = await freshPostgresSchema();
      return {
        store: await openStore({ dataDir: ".", databaseUrl: schema.url }, fixedClock),
        drop: schema.drop,
      };
    },
  },
];

for (const backend of backends)
  describe(`SQL store (${backend.name})`, { skip: backend.skip ?? false }, () => {
    let store: Store;
    let drop: (() => Promise<void>) | undefined;
    beforeEach(async () => {
      ({ store, drop } = await backend.open());
    });
    afterEach(async () => {
      await store.close();
      await drop?.();
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

    it("writes turns asked for together in one group, each session's turns in the order asked", async () => {
      const another = "another-session";
      await Promise.all([
        store.appendMessages(sessionId, [
          { role: "user", content: "q1", tokens: 1 },
          { role: "assistant", content: "a1", tokens: 1 },
        ]),
        store.appendMessages(another, [{ role: "user", content: "x", tokens: 1 }]),
        store.appendMessages(sessionId, [{ role: "user", content: "q2", tokens: 1 }]),
      ]);
      assert.deepEqual(
        (await store.listMessages(sessionId)).map((m) => m.content),
        ["q1", "a1", "q2"],
      );
      assert.deepEqual(
        (await store.listMessages(another)).map((m) => m.content),
        ["x"],
      );
      assert.ok(await store.getSession(another));
    });

    it("fails only the bad turn of a group, and the turns of its session queued behind it", async () => {
      const other = "other-session";
      const results = await Promise.allSettled([
        store.appendMessages(sessionId, [{ role: "user", content: "first", tokens: 1 }]),
        store.appendMessages(other, [
          { role: "user", content: "kept?", tokens: 1 },
          { role: "assistant", content: null as unknown as string, tokens: 1 },
        ]),
        store.appendMessages(other, [{ role: "user", content: "after the bad one", tokens: 1 }]),
        store.appendMessages(sessionId, [{ role: "assistant", content: "second", tokens: 1 }]),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ["fulfilled", "rejected", "rejected", "fulfilled"],
      );
      assert.deepEqual(
        (await store.listMessages(sessionId)).map((m) => m.content),
        ["first", "second"],
      );
      assert.deepEqual(await store.listMessages(other), []);
      assert.equal(await store.getSession(other), undefined);
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

    it("stores a workflow posted as it is and its estimate with the run, in the one write that creates it", async () => {
      const workflow = { stages: [{ type: "linear", tasks: [] }], variables: { topic: "x" } };
      const created = await store.createRun({
        id: "run-posted",
        sessionId: null,
        kind: "workflow",
        request: {},
        workflow,
        estimateUsd: 0.25,
      });
      assert.deepEqual(created.workflow, workflow);
      const stored = await store.getRun("run-posted");
      assert.deepEqual(stored?.workflow, workflow);
      assert.equal(stored?.estimateUsd, 0.25);
      assert.equal(stored?.attempt, null);
      assert.equal((await store.getRun("run-missing")) === undefined, true);
    });

    it("stores task results, replacing a task's earlier state, and reopens a run to resume it", async () => {
      await store.createRun({ id: "run-2", sessionId: null, kind: "workflow", request: {} });
      await store.setRunWorkflow("run-2", { stages: [], variables: { a: "1" } });
      const task = {
        runId: "run-2",
        stage: 0,
        index: 1,
        role: "medium_ai",
        model: "m",
        outputVariable: "out",
        output: null,
        error: null,
        usage: null,
        startedAt: "2026-01-01T00:00:00.000Z",
        finishedAt: null,
      };
      await store.saveTask({ ...task, status: "running" });
      await store.saveTask({
        ...task,
        status: "completed",
        output: "done",
        usage: { promptTokens: 3, completionTokens: 4, costUsd: 0.25 },
        finishedAt: "2026-01-01T00:00:01.000Z",
      });
      const tasks = await store.listTasks("run-2");
      assert.equal(tasks.length, 1);
      assert.equal(tasks[0]?.status, "completed");
      assert.deepEqual(tasks[0]?.usage, { promptTokens: 3, completionTokens: 4, costUsd: 0.25 });
      assert.deepEqual((await store.getRun("run-2"))?.workflow, { stages: [], variables: { a: "1" } });
      assert.equal(await store.finishRun("run-2", { status: "interrupted" }), true);
      assert.equal(await store.reopenRun("run-2"), true);
      assert.equal(await store.reopenRun("run-2"), false, "already running");
    });

    it("lets one claim take a run over, and refuses every write of the attempt it replaced (fencing)", async () => {
      await store.createRun({ id: "run-3", sessionId: null, kind: "workflow", request: {} });
      const claim = (attempt: string, expectedAttempt: string | null, recoveringAt?: string) =>
        store.claimRun("run-3", {
          attempt,
          expectedAttempt,
          leaseOwner: `owner-${attempt}`,
          leaseExpiresAt: "2026-01-01T00:00:10.000Z",
          ...(recoveringAt ? { recoveringAt } : {}),
        });
      assert.equal(await claim("a1", null), true);
      assert.equal(await claim("a2", null), false, "the attempt is no longer the one expected");
      assert.equal(await claim("a2", "a1", "2026-01-01T00:00:05.000Z"), false, "the lease still holds");
      const task = {
        runId: "run-3",
        stage: 0,
        index: 0,
        role: "medium_ai",
        model: "m",
        outputVariable: "out",
        output: null,
        error: null,
        usage: null,
        startedAt: null,
        finishedAt: null,
      };
      assert.equal(await store.saveTask({ ...task, status: "running", attempt: "a1" }), true);
      await store.renewLeases("owner-a1", "2026-01-01T00:00:20.000Z", ["run-3"]);
      assert.equal((await store.getRun("run-3"))?.leaseExpiresAt, "2026-01-01T00:00:20.000Z");
      // The lease expires; another process recovers the run with a new attempt, exactly once.
      const recovered = await Promise.all([
        claim("a2", "a1", "2026-01-01T00:00:30.000Z"),
        claim("a3", "a1", "2026-01-01T00:00:30.000Z"),
      ]);
      assert.deepEqual(recovered.sort(), [false, true]);
      const current = await store.getRun("run-3");
      assert.equal(current?.recoveries, 1);
      // A lease given up on a graceful stop is taken over at once, and that is no recovery.
      await store.releaseLeases(`owner-${current?.attempt}`, ["run-3"]);
      assert.equal((await store.getRun("run-3"))?.leaseOwner, null);
      assert.equal(await claim("a4", current?.attempt ?? "", "2026-01-01T00:00:00.001Z"), true);
      assert.equal((await store.getRun("run-3"))?.recoveries, 1);
      const stale = "a1";
      const fresh = "a4";
      // The process that lost the run wakes up: none of its writes land.
      assert.equal(
        await store.saveTask({ ...task, status: "completed", output: "stale", attempt: stale }),
        false,
      );
      assert.equal(await store.setRunWorkflow("run-3", { stages: [] }, stale), false);
      assert.equal(await store.finishRun("run-3", { status: "failed" }, [], stale), false);
      await store.renewLeases("owner-a1", "2026-01-01T01:00:00.000Z", ["run-3"]);
      assert.equal((await store.getRun("run-3"))?.leaseExpiresAt, "2026-01-01T00:00:10.000Z");
      // The current attempt's writes land; a finished task is final.
      assert.equal(
        await store.saveTask({ ...task, status: "completed", output: "fresh", attempt: fresh }),
        true,
      );
      assert.equal(await store.saveTask({ ...task, status: "running", attempt: fresh }), false);
      assert.equal((await store.listTasks("run-3"))[0]?.output, "fresh");
      assert.equal(await store.finishRun("run-3", { status: "completed" }, [], fresh), true);
      assert.equal((await store.getRun("run-3"))?.status, "completed");
    });

    it("ends the tasks still running when their run ends, and starts no task in a run that is not running", async () => {
      await store.createRun({ id: "run-4", sessionId: null, kind: "workflow", request: {} });
      await store.claimRun("run-4", {
        attempt: "a1",
        expectedAttempt: null,
        leaseOwner: "o",
        leaseExpiresAt: "2026-01-01T00:00:10.000Z",
      });
      const task = {
        runId: "run-4",
        stage: 0,
        role: "medium_ai",
        model: "m",
        outputVariable: "out",
        output: null,
        error: null,
        usage: null,
        startedAt: null,
        finishedAt: null,
        attempt: "a1",
      };
      await store.saveTask({ ...task, index: 0, status: "running" });
      await store.saveTask({ ...task, index: 1, status: "completed", output: "kept" });
      assert.equal(await store.finishRun("run-4", { status: "cancelled" }, [], "a1"), true);
      const tasks = await store.listTasks("run-4");
      assert.deepEqual(
        tasks.map((t) => [t.status, t.error?.code ?? null]),
        [
          ["cancelled", "cancelled"],
          ["completed", null],
        ],
      );
      assert.equal(await store.saveTask({ ...task, index: 2, status: "running" }), false);
    });

    it("writes a task's record and its calls' ledger rows in one transaction, the rows also when the task is refused", async () => {
      await store.createRun({ id: "run-5", sessionId: null, kind: "workflow", request: {} });
      await store.claimRun("run-5", {
        attempt: "a1",
        expectedAttempt: null,
        leaseOwner: "o",
        leaseExpiresAt: "2026-01-01T00:00:10.000Z",
      });
      const task = {
        runId: "run-5",
        stage: 0,
        index: 0,
        role: "medium_ai",
        model: "m",
        outputVariable: "out",
        error: null,
        usage: null,
        startedAt: null,
        finishedAt: null,
      };
      const call = {
        at: "2026-01-01T00:00:00.000Z",
        requestId: "r",
        endpoint: "/workflow",
        sessionId: null,
        workflowId: "run-5",
        category: null,
        purpose: "task" as const,
        kind: "chat" as const,
        role: "medium_ai",
        model: "m",
        provider: "openrouter",
        outcome: "ok" as const,
        promptTokens: 3,
        completionTokens: 2,
        latencyMs: 5,
        costUsd: 0.25,
        costSource: "price" as const,
        baselineUsd: 0,
      };
      const completed = { ...task, status: "completed" as const, output: "done" };
      assert.equal(await store.saveTask({ ...completed, attempt: "a1" }, [call, call]), true);
      assert.equal((await store.listTasks("run-5"))[0]?.output, "done");
      assert.equal(await store.usage.spentUsd({}), 0.5);
      // A stale attempt's result is refused, but the calls it made are counted.
      assert.equal(await store.saveTask({ ...completed, output: "stale", attempt: "a0" }, [call]), false);
      assert.equal((await store.listTasks("run-5"))[0]?.output, "done");
      assert.equal(await store.usage.spentUsd({}), 0.75);
      // A failing write keeps neither: the result is not stored without its rows.
      await assert.rejects(
        store.saveTask({ ...completed, index: 1, attempt: "a1" }, [
          call,
          { ...call, outcome: null as unknown as "ok" },
        ]),
      );
      assert.equal((await store.listTasks("run-5")).length, 1);
      assert.equal(await store.usage.spentUsd({}), 0.75);
    });

    it("writes the starts of several tasks in one call, refusing each one saveTask would refuse", async () => {
      await store.createRun({ id: "run-6", sessionId: null, kind: "workflow", request: {} });
      await store.claimRun("run-6", {
        attempt: "a1",
        expectedAttempt: null,
        leaseOwner: "o",
        leaseExpiresAt: "2026-01-01T00:00:10.000Z",
      });
      const task = {
        runId: "run-6",
        stage: 0,
        role: "medium_ai",
        model: "m",
        outputVariable: "out",
        output: null,
        error: null,
        usage: null,
        startedAt: null,
        finishedAt: null,
        attempt: "a1",
      };
      await store.saveTask({ ...task, index: 1, status: "completed", output: "kept" });
      const saved = await store.saveTasks([
        { ...task, index: 0, status: "running" },
        { ...task, index: 1, status: "running" },
        { ...task, index: 2, status: "running", attempt: "a0" },
        { ...task, index: 3, status: "running" },
      ]);
      assert.deepEqual(saved, [true, false, false, true]);
      assert.deepEqual(
        (await store.listTasks("run-6")).map((t) => [t.index, t.status]),
        [
          [0, "running"],
          [1, "completed"],
          [3, "running"],
        ],
      );
    });

    it("keeps binary artifacts byte for byte", async () => {
      const data = new Uint8Array([0, 1, 2, 250, 255]);
      const saved = await store.saveArtifact({
        id: "a-1",
        runId: null,
        contentType: "image/png",
        data,
        simulated: true,
      });
      const loaded = await store.getArtifact(saved.id);
      assert.deepEqual(Buffer.from(loaded?.data ?? []), Buffer.from(data));
      assert.equal(loaded?.simulated, true);
    });

    it("writes a ledger batch of any size in one statement, keeping every value exactly", async () => {
      const awkward = `it's "quoted", ünïcode 🚀, \\ and '); drop table upstream_calls; --`;
      const rows = Array.from({ length: 1500 }, (_, i) => ({
        at: "2026-03-01T00:00:00.000Z",
        requestId: `r${i}`,
        endpoint: "/v1/chat/completions",
        sessionId: i % 2 === 0 ? awkward : null,
        workflowId: null,
        category: null,
        purpose: "answer" as const,
        kind: "chat" as const,
        role: "medium_ai",
        model: i === 0 ? awkward : "m",
        provider: "openrouter",
        outcome: "ok" as const,
        promptTokens: i,
        completionTokens: 1,
        latencyMs: i + 0.25,
        costUsd: 0.000001,
        costSource: "price" as const,
        baselineUsd: 0,
      }));
      await store.usage.recordCalls(rows);
      await store.usage.recordCalls([]);
      const byModel = await store.usage.callsByModel("2026-01-01T00:00:00.000Z");
      assert.deepEqual(
        byModel.map((r) => [r.model, r.calls, r.promptTokens]),
        [
          [awkward, 1, 0],
          ["m", 1499, (1499 * 1500) / 2],
        ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      );
      assert.equal((await store.usage.latenciesByModel("2026-01-01T00:00:00.000Z")).get("m")?.[0], 1.25);
      assert.ok(Math.abs((await store.usage.spentUsd({ sessionId: awkward })) - 750 * 0.000001) < 1e-12);
    });

    it("sums the cost ledger by session and window, and groups it by model", async () => {
      const call = ledgerEntry({ sessionId });
      await store.usage.recordCalls([
        call,
        { ...call, sessionId: null, at: "2026-01-02T00:00:00.000Z", latencyMs: 30 },
      ]);
      await store.usage.recordRequests([
        {
          at: call.at,
          requestId: "r",
          method: "POST",
          endpoint: "/chat",
          status: 200,
          category: "M",
          latencyMs: 40,
          cacheHit: true,
          sessionId,
        },
      ]);
      assert.equal(await store.usage.spentUsd({ sessionId }), 0.000123456789);
      assert.equal(await store.usage.spentUsd({ since: "2026-01-01T12:00:00.000Z" }), 0.000123456789);
      const [row] = await store.usage.callsByModel("2025-01-01T00:00:00.000Z");
      assert.deepEqual(row, {
        model: "m",
        role: "medium_ai",
        outcome: "ok",
        calls: 2,
        promptTokens: 20,
        completionTokens: 10,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        costUsd: 0.000246913578,
        baselineUsd: 0.002,
        savedUsd: 0,
        cacheSavedUsd: 0,
        shadow: false,
      });
      assert.deepEqual((await store.usage.latenciesByModel("2025-01-01T00:00:00.000Z")).get("m"), [12.5, 30]);
      assert.deepEqual(await store.usage.requestCounts("2025-01-01T00:00:00.000Z"), [
        { endpoint: "/chat", category: "M", status: 200, requests: 1, cacheHits: 1 },
      ]);
    });

    it("keeps each call's prompt-cache counts and saving through the batch insert, and sums them by model", async () => {
      const call = ledgerEntry({ sessionId, requestId: "cached-req" });
      const cached = { ...call, cacheReadTokens: 6, cacheWriteTokens: 2, cacheSavedUsd: 0.0000042 };
      // The saving is negative when writing cost more than reading saved.
      const written = { ...call, cacheWriteTokens: 8, cacheSavedUsd: -0.000002 };
      await store.usage.recordCalls([cached, written, call]);
      const record = await store.usage.requestRecord("cached-req", null);
      assert.deepEqual(
        record.calls.map((c) => [c.cacheReadTokens, c.cacheWriteTokens, c.cacheSavedUsd]),
        [
          [6, 2, 0.0000042],
          [0, 8, -0.000002],
          [0, 0, 0],
        ],
      );
      const [row] = await store.usage.callsByModel("2025-01-01T00:00:00.000Z");
      assert.equal(row?.cacheReadTokens, 6);
      assert.equal(row?.cacheWriteTokens, 10);
      assert.ok(Math.abs((row?.cacheSavedUsd ?? 0) - 0.0000022) < 1e-15);
    });

    it("writes a batch of ledger and request-log rows in one transaction: both or neither", async () => {
      const call = ledgerEntry({ costUsd: 0.25, baselineUsd: 1 });
      const request = {
        at: call.at,
        requestId: "r",
        method: "POST",
        endpoint: "/chat",
        status: 200,
        category: "M" as const,
        latencyMs: 40,
        cacheHit: false,
        sessionId: null,
      };
      await store.usage.recordUsage([call, call], [request]);
      const since = "2025-01-01T00:00:00.000Z";
      assert.equal(await store.usage.spentUsd({ since }), 0.5);
      assert.equal((await store.usage.requestCounts(since))[0]?.requests, 1);
      // A request row the table refuses (no status) takes the batch's call rows down with it.
      const refused = { ...request, status: null as unknown as number };
      await assert.rejects(store.usage.recordUsage([call], [refused]));
      assert.equal(await store.usage.spentUsd({ since }), 0.5);
      assert.equal((await store.usage.requestCounts(since))[0]?.requests, 1);
      // Either kind alone is written too.
      await store.usage.recordUsage([call], []);
      await store.usage.recordUsage([], [request]);
      assert.equal(await store.usage.spentUsd({ since }), 0.75);
      assert.equal((await store.usage.requestCounts(since))[0]?.requests, 2);
    });

    it("keeps escalations, shadow calls and shadow samples, and counts them by window", async () => {
      const call = ledgerEntry({
        role: "thinking_ai",
        model: "t",
        latencyMs: 10,
        costUsd: 0.002,
        baselineUsd: 0.002,
      });
      await store.usage.recordCalls([
        { ...call, escalation: "empty" },
        { ...call, escalation: "empty", outcome: "transient" },
        { ...call, purpose: "shadow", shadow: true, baselineUsd: 0 },
        { ...call, purpose: "judge", shadow: true, costUsd: 0.0005, baselineUsd: 0 },
        { ...call, at: "2025-12-31T00:00:00.000Z", purpose: "shadow", shadow: true, baselineUsd: 0 },
      ]);
      assert.deepEqual(await store.usage.escalationCounts("2025-01-01T00:00:00.000Z"), { empty: 1 });
      assert.ok(Math.abs((await store.usage.shadowSpentUsd("2026-01-01T00:00:00.000Z")) - 0.0025) < 1e-12);
      const shadowRows = (await store.usage.callsByModel("2026-01-01T00:00:00.000Z")).filter((r) => r.shadow);
      assert.equal(
        shadowRows.reduce((n, r) => n + r.calls, 0),
        2,
      );

      const sample = {
        at: "2026-01-01T00:00:01.000Z",
        requestId: "r",
        sessionId: null,
        category: "M",
        routedRole: "medium_ai",
        routedModel: "m",
        baselineRole: "thinking_ai",
        baselineModel: "t",
        judgeModel: "t",
        status: "judged" as const,
        verdict: "better" as const,
        reason: "A is right",
        routedFirst: true,
        errorCode: null,
        costUsd: 0.0025,
      };
      await store.usage.recordShadowSample(sample);
      await store.usage.recordShadowSample({ ...sample, verdict: "worse", routedFirst: false });
      await store.usage.recordShadowSample({ ...sample, verdict: "better" });
      await store.usage.recordShadowSample({
        ...sample,
        status: "failed",
        verdict: null,
        judgeModel: null,
        routedFirst: null,
        errorCode: "upstream_timeout",
        costUsd: 0,
      });
      await store.usage.recordShadowSample({ ...sample, at: "2025-06-01T00:00:00.000Z" });
      const counts = await store.usage.shadowSampleCounts("2026-01-01T00:00:00.000Z");
      const key = (r: { status: string; verdict: string | null }) => `${r.status}/${r.verdict}`;
      assert.deepEqual(
        counts.map((r) => [key(r), r.category, r.routedModel, r.samples, Math.round(r.costUsd * 1e6)]).sort(),
        [
          ["failed/null", "M", "m", 1, 0],
          ["judged/better", "M", "m", 2, 5000],
          ["judged/worse", "M", "m", 1, 2500],
        ],
      );
    });
  });

describe("SQL store files and URLs", () => {
  it("finds the runs a previous process left running once their lease has expired, on disk", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "store-")), "db.sqlite");
    const first = await openStore({ dataDir: ".", databaseUrl: `sqlite:${file}` }, fixedClock);
    await first.createRun({ id: "cut-off", sessionId: null, kind: "chat", request: {} });
    await first.claimRun("cut-off", {
      attempt: "a1",
      expectedAttempt: null,
      leaseOwner: "gone",
      leaseExpiresAt: "2026-01-01T00:00:10.000Z",
    });
    await first.close();
    const second = await openStore({ dataDir: ".", databaseUrl: `sqlite:${file}` }, fixedClock);
    const orphans = (now: string) => second.listOrphanedRuns(now, now, 10);
    assert.deepEqual(await orphans("2026-01-01T00:00:05.000Z"), [], "its lease still holds");
    assert.deepEqual(
      (await orphans("2026-01-01T00:00:11.000Z")).map((r) => [r.id, r.attempt, r.leaseOwner]),
      [["cut-off", "a1", "gone"]],
    );
    await second.close();
  });

  it("refuses database URLs it cannot serve, without echoing credentials", async () => {
    await assert.rejects(
      openStore({ dataDir: ".", databaseUrl: "mysql://user:secret@db/app" }, fixedClock),
      (error: Error) => !error.message.includes("secret") && /DATABASE_URL/.test(error.message),
    );
    await assert.rejects(
      openStore({ dataDir: ".", databaseUrl: "postgres://user:secret@127.0.0.1:1/app" }, fixedClock),
      (error: Error) =>
        !error.message.includes("secret") && /cannot open the PostgreSQL database/.test(error.message),
    );
  });
});

describe("SQL store on a new PostgreSQL database", { skip: postgresUrl ? false : postgresSkipReason }, () => {
  it("migrates once when several processes start at the same moment", async () => {
    const schema = await freshPostgresSchema();
    try {
      const stores = await Promise.all(
        [1, 2, 3].map(() => openStore({ dataDir: ".", databaseUrl: schema.url }, fixedClock)),
      );
      await stores[0]?.ensureSession(sessionId);
      assert.ok(await stores[2]?.getSession(sessionId));
      await Promise.all(stores.map((store) => store.close()));
    } finally {
      await schema.drop();
    }
  });
});
