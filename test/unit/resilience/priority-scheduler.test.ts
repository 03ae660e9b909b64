import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Priority,
  PriorityScheduler,
  type Release,
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
});
