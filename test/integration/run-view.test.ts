import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type { Store } from "../../src/store/store.ts";
import { type FakeOpenRouter, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { eventually } from "../support/eventually.ts";
import { workerResponder } from "../support/responders.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

const task = (prompt: string, output: string) => ({ model: "medium_ai", prompt, output_variable: output });

// The in-process executor keeps a run's state between its steps instead of reading it again after every
// task; the store stays the source of truth whenever a write is refused.
describe("a run's state between its steps", () => {
  let fake: FakeOpenRouter;
  let t: TestApp;
  // Reads of a run's task list, and claims of a run, by run id.
  const listed = new Map<string, number>();
  const claimed = new Map<string, number>();

  before(async () => {
    fake = await startFakeOpenRouter();
    t = await startTestApp({ fake });
    const store: Store = t.app.store;
    const listTasks = store.listTasks.bind(store);
    store.listTasks = (runId) => {
      listed.set(runId, (listed.get(runId) ?? 0) + 1);
      return listTasks(runId);
    };
    const claimRun = store.claimRun.bind(store);
    store.claimRun = (id, claim) => {
      claimed.set(id, (claimed.get(id) ?? 0) + 1);
      return claimRun(id, claim);
    };
  });
  after(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => {
    fake.clear();
    fake.respondWith(workerResponder);
    listed.clear();
    claimed.clear();
  });

  it("is read from the store once, then follows the records its tasks write", async () => {
    const res = await t.post("/workflow", {
      workflow: [
        { type: "linear", tasks: [task("A [wait 50]", "a"), task("B", "b"), task("C [wait 20]", "c")] },
        { type: "inline", tasks: [task("D from {a} and {c}", "d"), task("E from {d}", "e")] },
      ],
    });
    assert.equal(res.body.status, "completed");
    assert.equal(res.body.outputs.e, "done: E from done: D from done: A [wait 50] and done: C [wait 20]");
    // The run was stored already claimed by this process, with no tasks: the executor neither claimed nor
    // read it. The one read is the response's view of the finished run.
    assert.equal(claimed.get(res.body.workflow_id), undefined);
    assert.equal(listed.get(res.body.workflow_id), 1);
    const run = await t.app.store.getRun(res.body.workflow_id);
    const tasks = await t.app.store.listTasks(res.body.workflow_id);
    assert.match(run?.attempt ?? "", /^[0-9a-z]+-[0-9a-f]{8}$/);
    assert.deepEqual(new Set(tasks.map((record) => record.attempt)), new Set([run?.attempt]));
  });

  it("claims and reads a run it did not create: a resumed one", async () => {
    // The second task is refused until the upstream is fixed, then the run is resumed.
    fake.respondWith((request) =>
      JSON.stringify(request).includes("second")
        ? ({ kind: "error", status: 400, message: "refused for now" } as const)
        : workerResponder(request),
    );
    const failing = await t.post("/workflow", {
      workflow: [{ type: "inline", tasks: [task("first", "one"), task("second after {one}", "two")] }],
    });
    assert.equal(failing.body.status, "failed");
    const id = failing.body.workflow_id;
    const before = await t.app.store.getRun(id);
    fake.respondWith(workerResponder);
    listed.clear();
    const resumed = await t.post(`/workflow/${id}/resume`, {});
    assert.equal(resumed.status, 202);
    await t.app.workflows.waitFor(id);
    assert.equal((await t.app.store.getRun(id))?.status, "completed");
    assert.equal(claimed.get(id), 1);
    assert.ok((listed.get(id) ?? 0) >= 1);
    assert.notEqual((await t.app.store.getRun(id))?.attempt, before?.attempt);
  });

  it("starts the next task in the transaction that stores the result it follows, and completes after it", async () => {
    const store: Store = t.app.store;
    const saveTasks = store.saveTasks.bind(store);
    const finishRun = store.finishRun.bind(store);
    const log: string[] = [];
    store.saveTasks = async (tasks, calls) => {
      // Slow commits: nothing may run ahead of them.
      await new Promise((resolve) => setTimeout(resolve, 30));
      const saved = await saveTasks(tasks, calls);
      log.push(tasks.map((task) => `${task.outputVariable}:${task.status}`).join(" + "));
      return saved;
    };
    store.finishRun = async (...args) => {
      log.push("run finished");
      return finishRun(...args);
    };
    try {
      const res = await t.post("/workflow", {
        workflow: [{ type: "inline", tasks: [task("one", "one"), task("two after {one}", "two")] }],
      });
      assert.equal(res.body.status, "completed");
      assert.equal(res.body.outputs.two, "done: two after done: one");
    } finally {
      store.saveTasks = saveTasks;
      store.finishRun = finishRun;
    }
    assert.deepEqual(log, ["one:running", "one:completed + two:running", "two:completed", "run finished"]);
  });

  it("is read again when a write is refused, and the run left to the attempt that took it over", async () => {
    const res = await t.post("/workflow", {
      async: true,
      workflow: [
        { type: "inline", tasks: [task("first [wait 300]", "first")] },
        { type: "inline", tasks: [task("second after {first}", "second")] },
      ],
    });
    const id: string = res.body.workflow_id;
    await eventually("the first task's call", async () => (fake.requests.length === 1 ? true : undefined));
    const run = await t.app.store.getRun(id);
    // Another process takes the run over while the first task's call is under way.
    const claimed = await t.app.store.claimRun(id, {
      attempt: "another-attempt",
      expectedAttempt: run?.attempt ?? null,
      leaseOwner: "another-process",
      leaseExpiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    assert.equal(claimed, true);
    await t.app.workflows.waitFor(id);
    assert.equal(fake.requests.length, 1, "nothing after the refused result is started");
    const after = await t.app.store.getRun(id);
    assert.equal(after?.status, "running");
    assert.equal(after?.attempt, "another-attempt");
    const [first] = await t.app.store.listTasks(id);
    assert.notEqual(first?.status, "completed", "the superseded attempt's result is not stored");
    assert.ok((listed.get(id) ?? 0) >= 2, "the run was read again after the refusal");
  });
});
