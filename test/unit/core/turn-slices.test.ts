import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TurnSlices } from "../../../src/core/turn-slices.ts";

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("TurnSlices", () => {
  it("lets work through at once while the turn has time left", async () => {
    const slices = new TurnSlices(5, () => 0);
    let through = 0;
    await Promise.all([1, 2, 3].map(() => slices.wait().then(() => through++)));
    assert.equal(through, 3);
    assert.equal(slices.waiting, 0);
  });

  it("past the slice, queues callers in arrival order for later turns, with timers served in between", async () => {
    let now = 0;
    const slices = new TurnSlices(5, () => now);
    await slices.wait();
    now = 10;
    const order: number[] = [];
    const done = [1, 2, 3].map((n) =>
      slices.wait().then(() => {
        order.push(n);
        // Each one's work takes a whole slice, so only one gets through per turn.
        now += 10;
      }),
    );
    let timerRan = false;
    setTimeout(() => {
      timerRan = true;
    }, 0);
    await Promise.resolve();
    assert.deepEqual(order, [], "nobody goes through in the turn that used up its slice");
    assert.equal(slices.waiting, 3);
    await turn();
    assert.deepEqual(order, [1], "one slice's worth per turn");
    await turn();
    assert.deepEqual(order, [1, 2]);
    await Promise.all(done);
    assert.deepEqual(order, [1, 2, 3]);
    assert.equal(timerRan, true);
  });

  it("lets several through in one turn when their work is short", async () => {
    let now = 0;
    const slices = new TurnSlices(5, () => now);
    await slices.wait();
    now = 10;
    const order: number[] = [];
    const done = [1, 2, 3].map((n) => slices.wait().then(() => order.push(n)));
    await turn();
    await turn();
    assert.deepEqual(order, [1, 2, 3]);
    await Promise.all(done);
  });
});
