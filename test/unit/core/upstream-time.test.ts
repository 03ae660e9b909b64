import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { overheadMs, UpstreamTime } from "../../../src/core/upstream-time.ts";

describe("UpstreamTime", () => {
  it("counts the time at least one upstream call is in flight, parallel calls once", () => {
    let now = 0;
    const time = new UpstreamTime(() => now);
    time.enter(); // call A from 0
    now = 10;
    time.enter(); // call B from 10, in parallel
    now = 30;
    time.leave(); // A ends
    now = 40;
    time.leave(); // B ends: 0..40 in flight
    now = 55;
    time.enter(); // C from 55
    now = 60;
    assert.equal(time.ms(), 45, "a call still in flight counts up to now");
    now = 65;
    time.leave();
    assert.equal(time.ms(), 50);
    assert.equal(overheadMs(80, time), 30);
  });

  it("never goes below zero and ignores a leave without an enter", () => {
    let now = 0;
    const time = new UpstreamTime(() => now);
    time.leave();
    time.enter();
    now = 20;
    time.leave();
    assert.equal(overheadMs(15, time), 0);
    assert.equal(overheadMs(15, undefined), 15);
  });
});
