import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type { Store } from "../../src/store/store.ts";
import { type FakeOpenRouter, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { workerResponder } from "../support/responders.ts";
import { eventually, startTestApp, type TestApp } from "../support/test-app.ts";

const task = (prompt: string, output: string) => ({ model: "medium_ai", prompt, output_variable: output });

// The in-process executor keeps a run's state between its steps instead of reading it again after every
// task; the store stays the source of truth whenever a write is refused.
describe("a run's state between its steps", () => {
  let fake: FakeOpenRouter;
  let t: TestApp;
  // Reads of a run's task list, by run id.
  const listed = new Map<string, number>();

  before(async () => {
    fake = await startFakeOpenRouter();
    t = await startTestApp({ fake });
    const store: Store = t.app.store;
    const listTasks = store.listTasks.bind(store);
    store.listTasks = (runId) => {
      listed.set(runId, (listed.get(runId) ?? 0) + 1);
      return listTasks(runId);
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
    // One read by the executor when the run starts, one by the response's view of the finished run.
    assert.equal(listed.get(res.body.workflow_id), 2);
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
    await eventually(async () => (fake.requests.length === 1 ? true : undefined));
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
