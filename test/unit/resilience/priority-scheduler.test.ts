import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Priority,
  PriorityScheduler,
  type Release,
  type SlotWaiter,
} from "../../../src/resilience/priority-scheduler.ts";

const ratios = { high: 0.6, medium: 0.3, low: 0.1 };

describe("PriorityScheduler", () => {
  it("grants at once while slots are free", async () => {
    const scheduler = new PriorityScheduler(2, ratios);
    await scheduler.acquire("low");
    await scheduler.acquire("low");
    assert.deepEqual(scheduler.stats().waiting, { high: 0, medium: 0, low: 0 });
    assert.equal(scheduler.stats().running, 2);
  });

  it("serves waiting classes in the 60/30/10 proportions, starving none", async () => {
    const scheduler = new PriorityScheduler(1, ratios);
    const first = await scheduler.acquire("high");
    const order: Priority[] = [];
    const pending: Promise<void>[] = [];
    for (const priority of ["high", "medium", "low"] as const) {
      for (let i = 0; i < 100; i++) {
        pending.push(
          scheduler.acquire(priority).then((release: Release) => {
            order.push(priority);
            queueMicrotask(release);
          }),
        );
      }
    }
    first();
    await Promise.all(pending);
    const firstHundred = order.slice(0, 100);
    const count = (p: Priority) => firstHundred.filter((x) => x === p).length;
    assert.ok(Math.abs(count("high") - 60) <= 2, `high ${count("high")}`);
    assert.ok(Math.abs(count("medium") - 30) <= 2, `medium ${count("medium")}`);
    assert.ok(Math.abs(count("low") - 10) <= 2, `low ${count("low")}`);
    assert.equal(order.length, 300, "everyone is served in the end");
  });

  it("drops a waiter whose caller gave up", async () => {
    const scheduler = new PriorityScheduler(1, ratios);
    const release = await scheduler.acquire("high");
    const controller = new AbortController();
    const abandoned = scheduler.acquire("high", controller.signal);
    controller.abort(new Error("gone"));
    await assert.rejects(abandoned, /gone/);
    assert.equal(scheduler.stats().waiting.high, 0);
    release();
    assert.equal(scheduler.stats().running, 0);
  });

  it("a release counts once, however often it is called", async () => {
    const scheduler = new PriorityScheduler(1, ratios);
    const release = await scheduler.acquire("medium");
    release();
    release();
    assert.equal(scheduler.stats().running, 0);
  });

  it("grants a plain waiter at once while a slot is free, and queues it (holding nothing) when none is", async () => {
    const scheduler = new PriorityScheduler(1, ratios);
    const granted: Release[] = [];
    const waiter = (): SlotWaiter => ({ granted: (release) => granted.push(release) });
    scheduler.enqueue("medium", waiter());
    assert.equal(granted.length, 1, "granted within the call");
    scheduler.enqueue("medium", waiter());
    assert.equal(granted.length, 1);
    assert.deepEqual(scheduler.stats(), { running: 1, capacity: 1, waiting: { high: 0, medium: 1, low: 0 } });
    granted[0]?.();
    assert.equal(granted.length, 2, "the freed slot goes to the queued waiter");
    assert.equal(scheduler.stats().running, 1);
  });

  it("serves plain waiters and awaiting calls in one order, 60/30/10 by class", async () => {
    const scheduler = new PriorityScheduler(1, ratios);
    const first = await scheduler.acquire("high");
    const order: Priority[] = [];
    const pending: Promise<void>[] = [];
    // Workflow tasks queue as plain waiters (medium); calls await a slot (high and low).
    for (let i = 0; i < 100; i++) {
      scheduler.enqueue("medium", {
        granted: (release) => {
          order.push("medium");
          queueMicrotask(release);
        },
      });
      for (const priority of ["high", "low"] as const) {
        pending.push(
          scheduler.acquire(priority).then((release) => {
            order.push(priority);
            queueMicrotask(release);
          }),
        );
      }
    }
    first();
    await Promise.all(pending);
    await new Promise((resolve) => setImmediate(resolve));
    const firstHundred = order.slice(0, 100);
    const count = (p: Priority) => firstHundred.filter((x) => x === p).length;
    assert.ok(Math.abs(count("high") - 60) <= 2, `high ${count("high")}`);
    assert.ok(Math.abs(count("medium") - 30) <= 2, `medium ${count("medium")}`);
    assert.ok(Math.abs(count("low") - 10) <= 2, `low ${count("low")}`);
    assert.equal(order.length, 300, "everyone is served in the end");
  });

  it("withdraws a waiting plain waiter, which is then never granted", async () => {
    const idle: number[] = [];
    const scheduler = new PriorityScheduler(1, ratios, () => idle.push(1));
    const release = await scheduler.acquire("high");
    let granted = false;
    const waiter: SlotWaiter = {
      granted: () => {
        granted = true;
      },
    };
    scheduler.enqueue("medium", waiter);
    assert.equal(scheduler.withdraw("medium", waiter), true);
    assert.equal(scheduler.withdraw("medium", waiter), false, "only once");
    assert.equal(scheduler.stats().waiting.medium, 0);
    release();
    assert.equal(granted, false);
    assert.equal(scheduler.stats().running, 0);
    assert.equal(idle.length, 1, "told once it is idle");
  });
});
