import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backoffDelay, retryDelay } from "../../../src/resilience/backoff.ts";

const settings = { baseDelayMs: 1000, maxDelayMs: 30_000 };

describe("backoff with full jitter", () => {
  it("draws between 0 and base × 2^retry, capped at the maximum", () => {
    assert.equal(
      backoffDelay(0, settings, () => 0.999999),
      999,
    );
    assert.equal(
      backoffDelay(1, settings, () => 0.5),
      1000,
    );
    assert.equal(
      backoffDelay(3, settings, () => 0.5),
      4000,
    );
    assert.equal(
      backoffDelay(10, settings, () => 0.999999),
      29_999,
    );
    assert.equal(
      backoffDelay(3, settings, () => 0),
      0,
    );
  });

  it("waits at least what Retry-After asks", () => {
    assert.equal(
      retryDelay(0, settings, () => 0.5, 7000),
      7000,
    );
    assert.equal(
      retryDelay(4, settings, () => 0.5, 10),
      8000,
    );
    assert.equal(
      retryDelay(1, settings, () => 0.25, undefined),
      500,
    );
  });
});
