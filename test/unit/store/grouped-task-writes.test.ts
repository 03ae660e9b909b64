import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GroupedTaskWrites } from "../../../src/store/grouped-task-writes.ts";
import type { TaskRecord } from "../../../src/store/store.ts";
import type { LedgerEntry } from "../../../src/store/usage-store.ts";

const task = (runId: string, index: number, status: TaskRecord["status"] = "running"): TaskRecord => ({
  runId,
  stage: 0,
  index,
  role: "medium_ai",
  model: "m",
  outputVariable: `out${index}`,
  status,
  output: null,
  error: null,
  usage: null,
  startedAt: "2026-01-01T00:00:00.000Z",
  finishedAt: null,
});
const call = (workflowId: string) => ({ workflowId }) as unknown as LedgerEntry;

// A store that records each transaction and answers from `decide`; a transaction holding a task of the run
// "broken" fails as a whole, as a database error would.
function fakeStore(decide: (task: TaskRecord) => boolean = () => true) {
  const transactions: { tasks: TaskRecord[]; calls: LedgerEntry[] }[] = [];
  let release: (() => void) | undefined;
  return {
    transactions,
    // While held, transactions wait (a write in progress).
    hold: () => {
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      return { held, release: () => release?.() };
    },
    held: undefined as Promise<void> | undefined,
    async saveTasks(tasks: readonly TaskRecord[], calls: readonly LedgerEntry[] = []) {
      transactions.push({ tasks: [...tasks], calls: [...calls] });
      await this.held;
      if (tasks.some((t) => t.runId === "broken")) throw new Error("constraint failed");
      return tasks.map(decide);
    },
  };
}

// Flushes run when the test says, as the end of a turn of the event loop would.
function manualTurns() {
  const flushes: (() => void)[] = [];
  return {
    defer: (flush: () => void) => {
      flushes.push(flush);
    },
    endTurn: () => {
      for (const flush of flushes.splice(0)) flush();
    },
  };
}

describe("grouped task writes", () => {
  it("commits the writes asked for in one turn together, each caller hearing only about its own tasks", async () => {
    const store = fakeStore((t) => t.index !== 2);
    const turns = manualTurns();
    const writes = new GroupedTaskWrites(store, turns.defer);
    const a = writes.saveTasks([task("r1", 0), task("r1", 1)]);
    const b = writes.saveTasks([task("r2", 2, "completed")], [call("r2")]);
    const c = writes.saveTasks([task("r3", 3, "failed")], [call("r3"), call("r3")]);
    assert.equal(store.transactions.length, 0, "nothing is written before the turn ends");
    turns.endTurn();
    assert.deepEqual(await a, [true, true]);
    assert.deepEqual(await b, [false]);
    assert.deepEqual(await c, [true]);
    assert.equal(store.transactions.length, 1);
    assert.deepEqual(
      store.transactions[0]?.tasks.map((t) => t.index),
      [0, 1, 2, 3],
    );
    assert.equal(store.transactions[0]?.calls.length, 3);
  });

  it("writes what is asked for while a group is being written right after it commits, as the next group", async () => {
    const store = fakeStore();
    const turns = manualTurns();
    const writes = new GroupedTaskWrites(store, turns.defer);
    const hold = store.hold();
    store.held = hold.held;
    const first = writes.saveTasks([task("r1", 0)]);
    turns.endTurn();
    assert.equal(store.transactions.length, 1);
    const second = writes.saveTasks([task("r1", 1)]);
    const third = writes.saveTasks([task("r2", 0)]);
    turns.endTurn();
    assert.equal(store.transactions.length, 1, "the second group waits for the first to commit");
    let secondDone = false;
    void second.then(() => {
      secondDone = true;
    });
    store.held = undefined;
    hold.release();
    assert.deepEqual(await first, [true]);
    assert.deepEqual(await Promise.all([second, third]), [[true], [true]]);
    assert.equal(secondDone, true);
    assert.equal(store.transactions.length, 2);
    assert.deepEqual(
      store.transactions[1]?.tasks.map((t) => t.runId),
      ["r1", "r2"],
    );
  });

  it("tries each write of a failed group on its own, so only the one at fault fails", async () => {
    const store = fakeStore();
    const turns = manualTurns();
    const writes = new GroupedTaskWrites(store, turns.defer);
    const good = writes.saveTasks([task("r1", 0)], [call("r1")]);
    const bad = writes.saveTasks([task("broken", 0)], [call("broken")]);
    const alsoGood = writes.saveTasks([task("r2", 0)]);
    turns.endTurn();
    assert.deepEqual(await good, [true]);
    await assert.rejects(bad, /constraint failed/);
    assert.deepEqual(await alsoGood, [true]);
    // The group, then each write alone: the calls of the good ones are written exactly once with them.
    assert.deepEqual(
      store.transactions.map((t) => t.tasks.map((x) => x.runId)),
      [["r1", "broken", "r2"], ["r1"], ["broken"], ["r2"]],
    );
  });

  it("fails the writes of a run queued behind one of its writes that failed, without trying them", async () => {
    const store = fakeStore();
    const turns = manualTurns();
    const writes = new GroupedTaskWrites(store, turns.defer);
    // A task's result that cannot be stored, and the next task's start queued behind it.
    const result = writes.saveTasks([task("broken", 0, "completed")]);
    const nextStart = writes.saveTasks([task("broken", 1)]);
    const other = writes.saveTasks([task("r1", 0)]);
    turns.endTurn();
    await assert.rejects(result, /constraint failed/);
    await assert.rejects(nextStart, /constraint failed/);
    assert.deepEqual(await other, [true]);
    assert.deepEqual(
      store.transactions.map((t) => t.tasks.map((x) => `${x.runId}.${x.index}`)),
      [["broken.0", "broken.1", "r1.0"], ["broken.0"], ["r1.0"]],
    );
  });

  it("rejects a write that fails alone, and keeps writing those asked for after it", async () => {
    const store = fakeStore();
    const writes = new GroupedTaskWrites(store);
    await assert.rejects(writes.saveTasks([task("broken", 0)]), /constraint failed/);
    assert.deepEqual(await writes.saveTasks([task("r1", 0)]), [true]);
    assert.equal(store.transactions.length, 2);
  });
});
