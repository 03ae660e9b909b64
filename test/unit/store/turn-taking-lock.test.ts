import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TurnTakingLock } from "../../../src/store/turn-taking-lock.ts";

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("TurnTakingLock", () => {
  it("has one holder at a time and serves waiters in arrival order", async () => {
    const lock = new TurnTakingLock(1_000);
    const order: number[] = [];
    let holders = 0;
    await Promise.all(
      [0, 1, 2, 3, 4].map(async (n) => {
        await lock.acquire();
        holders++;
        assert.equal(holders, 1);
        order.push(n);
        await Promise.resolve();
        holders--;
        lock.release();
      }),
    );
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
    assert.equal(lock.waiting, 0);
  });

  it("is free again once the last holder releases it", async () => {
    const lock = new TurnTakingLock(1_000);
    await lock.acquire();
    lock.release();
    let taken = false;
    void lock.acquire().then(() => {
      taken = true;
    });
    await Promise.resolve();
    assert.equal(taken, true);
  });

  it("hands on at once within a slice, and only after the event loop turns past it", async () => {
    let now = 0;
    const lock = new TurnTakingLock(5, () => now);
    await lock.acquire();
    let second = false;
    let third = false;
    void lock.acquire().then(() => {
      second = true;
    });
    void lock.acquire().then(() => {
      third = true;
    });
    now = 4;
    lock.release();
    await Promise.resolve();
    assert.equal(second, true, "within the slice the next waiter starts in the same turn");
    now = 6;
    let timerRan = false;
    setImmediate(() => {
      timerRan = true;
    });
    lock.release();
    for (let i = 0; i < 10; i++) await Promise.resolve();
    assert.equal(third, false, "past the slice the next waiter waits for the loop to turn");
    await turn();
    await turn();
    assert.equal(third, true);
    assert.equal(timerRan, true);
  });

  it("gives a fresh slice in each turn of the event loop", async () => {
    let now = 0;
    const lock = new TurnTakingLock(5, () => now);
    await lock.acquire();
    lock.release();
    now = 100;
    await turn();
    await lock.acquire();
    let next = false;
    void lock.acquire().then(() => {
      next = true;
    });
    lock.release();
    await Promise.resolve();
    assert.equal(next, true);
  });
});
