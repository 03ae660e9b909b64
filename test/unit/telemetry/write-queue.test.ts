import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WriteQueue } from "../../../src/telemetry/write-queue.ts";

// A timer fired by hand: the test decides when the interval has passed.
function manualTimer() {
  const timers: { run: () => void; ms: number; cancelled: boolean }[] = [];
  return {
    timers,
    schedule: (run: () => void, ms: number) => {
      const timer = { run, ms, cancelled: false };
      timers.push(timer);
      return () => {
        timer.cancelled = true;
      };
    },
    fire() {
      for (const timer of timers.splice(0)) if (!timer.cancelled) timer.run();
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("WriteQueue", () => {
  it("holds rows until the timer fires, then writes them in one batch", async () => {
    const timer = manualTimer();
    const batches: number[][] = [];
    const queue = new WriteQueue<number>("rows", async (rows) => void batches.push([...rows]), {
      flushIntervalMs: 250,
      schedule: timer.schedule,
    });
    for (let i = 0; i < 7; i++) queue.push(i);
    await settle();
    assert.deepEqual(batches, [], "nothing is written before the interval");
    assert.deepEqual(
      timer.timers.map((t) => t.ms),
      [250],
      "one timer per batch, not one per row",
    );
    timer.fire();
    await settle();
    assert.deepEqual(batches, [[0, 1, 2, 3, 4, 5, 6]]);
    assert.equal(queue.pending, 0);
  });

  it("writes a full batch at once, without waiting for the timer", async () => {
    const timer = manualTimer();
    const batches: number[][] = [];
    const queue = new WriteQueue<number>("rows", async (rows) => void batches.push([...rows]), {
      maxBatchRows: 3,
      schedule: timer.schedule,
    });
    for (let i = 0; i < 4; i++) queue.push(i);
    await settle();
    assert.deepEqual(batches, [[0, 1, 2]]);
    assert.equal(queue.pending, 1, "the fourth row waits for the next batch");
  });

  it("flush() writes everything queued so far, including rows that arrive while a batch is written", async () => {
    const timer = manualTimer();
    const written: number[] = [];
    let queue: WriteQueue<number> | undefined;
    queue = new WriteQueue<number>(
      "rows",
      async (rows) => {
        await settle();
        written.push(...rows);
        if (rows.includes(1)) queue?.push(99); // a row recorded while the first batch is being written
      },
      { schedule: timer.schedule },
    );
    queue.push(1);
    queue.push(2);
    await queue.flush();
    assert.deepEqual(written, [1, 2, 99]);
    assert.equal(queue.pending, 0);
  });

  it("logs a failed batch and goes on with the next one", async () => {
    const timer = manualTimer();
    const errors: string[] = [];
    const logger = { error: (_fields: unknown, message: string) => errors.push(message) };
    let fail = true;
    const written: number[] = [];
    const queue = new WriteQueue<number>(
      "ledger rows",
      async (rows) => {
        if (fail) {
          fail = false;
          throw new Error("disk full");
        }
        written.push(...rows);
      },
      { schedule: timer.schedule, logger: logger as never },
    );
    queue.push(1);
    await queue.flush();
    queue.push(2);
    await queue.flush();
    assert.deepEqual(errors, ["could not write ledger rows"]);
    assert.deepEqual(written, [2]);
  });

  it("take() hands over only the rows asked for, after a batch that holds some of them is written", async () => {
    const timer = manualTimer();
    const written: number[][] = [];
    let release: () => void = () => undefined;
    const queue = new WriteQueue<number>(
      "rows",
      async (rows) => {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        written.push([...rows]);
      },
      { schedule: timer.schedule },
    );
    const even = (row: number) => row % 2 === 0;
    queue.push(2);
    timer.fire(); // the batch [2] is being written
    queue.push(3);
    queue.push(4);
    let taken: number[] | undefined;
    const taking = queue.take(even).then((rows) => {
      taken = rows;
    });
    await settle();
    assert.equal(taken, undefined, "waits: row 2 is in the batch being written");
    release();
    await taking;
    assert.deepEqual(written, [[2]]);
    assert.deepEqual(taken, [4], "row 2 was written by its batch; row 4 is handed over");
    assert.equal(queue.pending, 1, "row 3 stays queued");
    // Rows whose own write failed go back and are written by the queue after all.
    queue.giveBack([4]);
    const flushing = queue.flush();
    await settle();
    release();
    await flushing;
    assert.deepEqual(written, [[2], [3, 4]]);
  });

  it("take() does not wait for a batch that holds none of the rows asked for", async () => {
    const timer = manualTimer();
    const queue = new WriteQueue<number>("rows", () => new Promise<void>(() => undefined), {
      schedule: timer.schedule,
    });
    queue.push(1);
    timer.fire(); // a batch that never finishes
    queue.push(2);
    assert.deepEqual(await queue.take((row) => row === 2), [2]);
    assert.equal(queue.pending, 0);
  });
});
