import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CircuitBreaker, CircuitBreakers } from "../../../src/resilience/circuit-breaker.ts";
import { virtualTime } from "../../support/virtual-time.ts";

describe("CircuitBreaker", () => {
  const settings = { failureThreshold: 5, openMs: 60_000 };

  it("opens after 5 consecutive failures and refuses calls while open", () => {
    const time = virtualTime();
    const breaker = new CircuitBreaker("m", settings, time.now);
    for (let i = 0; i < 4; i++) {
      assert.ok(breaker.tryAcquire());
      breaker.onFailure();
    }
    assert.equal(breaker.snapshot().state, "closed");
    assert.ok(breaker.tryAcquire());
    breaker.onFailure();
    assert.equal(breaker.snapshot().state, "open");
    assert.equal(breaker.tryAcquire(), false);
    const error = breaker.openError();
    assert.equal(error.code, "circuit_open");
    assert.equal(error.kind, "fatal");
    assert.equal(error.retryAfterMs, 60_000);
  });

  it("a success resets the count of consecutive failures", () => {
    const breaker = new CircuitBreaker("m", settings, virtualTime().now);
    for (let i = 0; i < 4; i++) breaker.onFailure();
    breaker.onSuccess();
    for (let i = 0; i < 4; i++) breaker.onFailure();
    assert.equal(breaker.snapshot().state, "closed");
  });

  it("after the timeout lets exactly one trial through, and closes when it succeeds", () => {
    const time = virtualTime();
    const transitions: string[] = [];
    const breaker = new CircuitBreaker("m", settings, time.now, (e) =>
      transitions.push(`${e.from}->${e.to}`),
    );
    for (let i = 0; i < 5; i++) breaker.onFailure();
    time.advance(59_999);
    assert.equal(breaker.tryAcquire(), false);
    time.advance(1);
    assert.equal(breaker.tryAcquire(), true, "the trial call");
    assert.equal(breaker.tryAcquire(), false, "only one trial at a time");
    breaker.onSuccess();
    assert.equal(breaker.snapshot().state, "closed");
    assert.ok(breaker.tryAcquire());
    assert.deepEqual(transitions, ["closed->open", "open->half_open", "half_open->closed"]);
  });

  it("opens again when the trial fails, for another full timeout", () => {
    const time = virtualTime();
    const breaker = new CircuitBreaker("m", settings, time.now);
    for (let i = 0; i < 5; i++) breaker.onFailure();
    time.advance(60_000);
    assert.ok(breaker.tryAcquire());
    breaker.onFailure();
    assert.equal(breaker.snapshot().state, "open");
    time.advance(59_000);
    assert.equal(breaker.tryAcquire(), false);
  });

  it("a neutral ending frees the trial slot without judging the model", () => {
    const time = virtualTime();
    const breaker = new CircuitBreaker("m", settings, time.now);
    for (let i = 0; i < 5; i++) breaker.onFailure();
    time.advance(60_000);
    assert.ok(breaker.tryAcquire());
    breaker.onNeutral();
    assert.ok(breaker.tryAcquire());
  });

  it("keeps one breaker per model", () => {
    const breakers = new CircuitBreakers(settings, virtualTime().now);
    for (let i = 0; i < 5; i++) breakers.for("a").onFailure();
    assert.equal(breakers.for("a").tryAcquire(), false);
    assert.equal(breakers.for("b").tryAcquire(), true);
    assert.deepEqual(
      breakers.snapshots().map((s) => [s.key, s.state]),
      [
        ["a", "open"],
        ["b", "closed"],
      ],
    );
  });
});
