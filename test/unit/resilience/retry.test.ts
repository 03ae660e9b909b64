import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OrchestratorError } from "../../../src/core/errors.ts";
import { planRetry, type RetryOptions } from "../../../src/resilience/retry.ts";
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

// The waits planRetry asks for after each of `errors` in turn, until it gives up (undefined).
function plannedWaits(errors: readonly OrchestratorError[], settings: RetryOptions): (number | undefined)[] {
  const waits: (number | undefined)[] = [];
  for (const [i, error] of errors.entries()) {
    const delayMs = planRetry(error, i + 1, settings);
    waits.push(delayMs);
    if (delayMs === undefined) break;
  }
  return waits;
}

describe("planRetry", () => {
  it("waits growing, jittered gaps after transient errors", () => {
    assert.deepEqual(
      plannedWaits([transient(), transient(), transient()], options(virtualTime())),
      [500, 1000, 2000],
    );
  });

  it("gives up after the kind's number of tries", () => {
    const many = Array.from({ length: 10 }, () => transient());
    assert.deepEqual(plannedWaits(many, options(virtualTime())), [500, 1000, 2000, 4000, undefined]);
    const resource = new OrchestratorError({
      kind: "resource",
      code: "upstream_timeout",
      message: "slow",
      retryable: true,
    });
    assert.deepEqual(plannedWaits([resource, resource, resource], options(virtualTime())), [
      500,
      1000,
      undefined,
    ]);
  });

  it("never retries persistent, logical or fatal errors", () => {
    for (const kind of ["persistent", "logical", "fatal"] as const) {
      const error = new OrchestratorError({ kind, code: "x", message: kind });
      assert.equal(planRetry(error, 1, options(virtualTime())), undefined, kind);
    }
  });

  it("honours Retry-After", () => {
    assert.equal(planRetry(transient(5000), 1, options(virtualTime())), 5000);
  });

  it("never plans a wait that ends past the caller's deadline", () => {
    const time = virtualTime(4000);
    assert.equal(planRetry(transient(), 1, options(time, { deadline: 5000 })), 500);
    assert.equal(planRetry(transient(1000), 1, options(time, { deadline: 5000 })), undefined);
  });

  it("stops when the caller cancels", () => {
    const controller = new AbortController();
    controller.abort();
    assert.equal(planRetry(transient(), 1, options(virtualTime(), { signal: controller.signal })), undefined);
  });
});
