import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, it } from "node:test";
import { timedSignal } from "../../../src/core/timed-signal.ts";

describe("timedSignal", () => {
  it("aborts with the parent's reason when the parent aborts first, and does not count as timed out", () => {
    const parent = new AbortController();
    const timed = timedSignal(parent.signal, 10_000);
    assert.equal(timed.signal.aborted, false);
    const reason = new Error("client gone");
    parent.abort(reason);
    assert.equal(timed.signal.aborted, true);
    assert.equal(timed.signal.reason, reason);
    assert.equal(timed.timedOut(), false);
    timed.dispose();
  });

  it("aborts with the given reason when the time is up", async () => {
    const parent = new AbortController();
    const reason = new Error("too slow");
    const timed = timedSignal(parent.signal, 5, () => reason);
    await once(timed.signal, "abort");
    assert.equal(timed.signal.aborted, true);
    assert.equal(timed.signal.reason, reason);
    assert.equal(timed.timedOut(), true);
    // A parent aborting afterwards makes it the caller's abort again, as the guard reads it.
    parent.abort();
    assert.equal(timed.timedOut(), false);
    assert.equal(timed.signal.reason, reason);
  });

  it("times out with an AbortError when no reason is given, with or without a parent", async () => {
    const timed = timedSignal(undefined, 5);
    await once(timed.signal, "abort");
    assert.equal(timed.signal.aborted, true);
    assert.equal((timed.signal.reason as Error).name, "AbortError");
    assert.equal(timed.timedOut(), true);
  });

  it("is aborted at once under a parent that already is", () => {
    const parent = new AbortController();
    parent.abort("earlier");
    const timed = timedSignal(parent.signal, 5);
    assert.equal(timed.signal.aborted, true);
    assert.equal(timed.signal.reason, "earlier");
    assert.equal(timed.timedOut(), false);
  });

  it("after dispose, neither the timer nor the parent aborts it", async () => {
    const parent = new AbortController();
    const timed = timedSignal(parent.signal, 5);
    timed.dispose();
    // Timers of one length fire in the order they were set: once a later one has fired, the disposed one's
    // moment has passed too.
    const later = timedSignal(undefined, 5);
    await once(later.signal, "abort");
    parent.abort();
    assert.equal(timed.signal.aborted, false);
    assert.equal(timed.timedOut(), false);
  });
});
