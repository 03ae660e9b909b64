import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OrchestratorError } from "../../../src/core/errors.ts";
import { type RetryOptions, withRetry } from "../../../src/resilience/retry.ts";
import { virtualTime } from "../../support/virtual-time.ts";

const transient = (retryAfterMs?: number) =>
  new OrchestratorError({
    kind: "transient",
    code: "upstream_error",
    message: "flaky",
    ...(retryAfterMs ? { retryAfterMs } : {}),
  });

function options(time: ReturnType<typeof virtualTime>, overrides: Partial<RetryOptions> = {}): RetryOptions {
  return {
    policy: { baseDelayMs: 1000, maxDelayMs: 30_000, maxAttempts: { transient: 5, resource: 3 } },
    sleep: time.sleep,
    random: () => 0.5,
    now: time.now,
    deadline: Number.POSITIVE_INFINITY,
    ...overrides,
  };
}

// Fails with the given errors in turn, then succeeds.
function failing(errors: readonly unknown[]) {
  let calls = 0;
  const attempt = async () => {
    const error = errors[calls++];
    if (error) throw error;
    return "ok";
  };
  return { attempt, calls: () => calls };
}

describe("withRetry", () => {
  it("retries transient errors with growing, jittered gaps until success", async () => {
    const time = virtualTime();
    const run = failing([transient(), transient(), transient()]);
    assert.equal(await withRetry(run.attempt, options(time)), "ok");
    assert.equal(run.calls(), 4);
    assert.deepEqual(time.sleeps, [500, 1000, 2000]);
  });

  it("gives up after the kind's number of tries and throws the last error", async () => {
    const time = virtualTime();
    const run = failing(Array.from({ length: 10 }, () => transient()));
    await assert.rejects(withRetry(run.attempt, options(time)), /flaky/);
    assert.equal(run.calls(), 5);
    const resource = new OrchestratorError({
      kind: "resource",
      code: "upstream_timeout",
      message: "slow",
      retryable: true,
    });
    const slow = failing([resource, resource, resource, resource]);
    await assert.rejects(withRetry(slow.attempt, options(virtualTime())));
    assert.equal(slow.calls(), 3);
  });

  it("never retries persistent or logical errors", async () => {
    for (const kind of ["persistent", "logical", "fatal"] as const) {
      const run = failing([new OrchestratorError({ kind, code: "x", message: kind })]);
      const time = virtualTime();
      await assert.rejects(withRetry(run.attempt, options(time)), new RegExp(kind));
      assert.equal(run.calls(), 1);
      assert.deepEqual(time.sleeps, []);
    }
  });

  it("honours Retry-After", async () => {
    const time = virtualTime();
    const run = failing([transient(5000)]);
    await withRetry(run.attempt, options(time));
    assert.deepEqual(time.sleeps, [5000]);
  });

  it("never waits past the caller's deadline", async () => {
    const time = virtualTime();
    const run = failing([transient(), transient(), transient(10_000), transient()]);
    await assert.rejects(withRetry(run.attempt, options(time, { deadline: 5000 })), /flaky/);
    assert.equal(run.calls(), 3, "the third failure asks for a wait that would end past the deadline");
    assert.deepEqual(time.sleeps, [500, 1000]);
  });

  it("stops when the caller cancels", async () => {
    const controller = new AbortController();
    const run = failing([transient(), transient()]);
    controller.abort();
    await assert.rejects(withRetry(run.attempt, options(virtualTime(), { signal: controller.signal })));
    assert.equal(run.calls(), 1);
  });
});
