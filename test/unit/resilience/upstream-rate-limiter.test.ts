import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OrchestratorError } from "../../../src/core/errors.ts";
import { UpstreamRateLimiter } from "../../../src/resilience/upstream-rate-limiter.ts";
import { virtualTime } from "../../support/virtual-time.ts";

describe("UpstreamRateLimiter", () => {
  it("lets calls through until the requests-per-minute budget, then waits for the window to slide", async () => {
    const time = virtualTime();
    const limiter = new UpstreamRateLimiter(
      () => ({ requestsPerMinute: 3, tokensPerMinute: 0 }),
      time.now,
      time.sleep,
    );
    for (let i = 0; i < 3; i++) {
      await limiter.acquire("m", Number.POSITIVE_INFINITY);
      time.advance(1000);
    }
    await limiter.acquire("m", Number.POSITIVE_INFINITY);
    assert.deepEqual(time.sleeps, [57_000], "until the first call is a minute old");
  });

  it("counts the tokens calls really used", async () => {
    const time = virtualTime();
    const limiter = new UpstreamRateLimiter(
      () => ({ requestsPerMinute: 0, tokensPerMinute: 1000 }),
      time.now,
      time.sleep,
    );
    (await limiter.acquire("m", Number.POSITIVE_INFINITY)).settle(600);
    time.advance(10_000);
    (await limiter.acquire("m", Number.POSITIVE_INFINITY)).settle(500);
    time.advance(10_000);
    await limiter.acquire("m", Number.POSITIVE_INFINITY);
    assert.deepEqual(time.sleeps, [40_000], "1100 tokens used: wait until the first 600 leave the window");
  });

  it("keeps models apart and treats 0 as unlimited", async () => {
    const time = virtualTime();
    const limiter = new UpstreamRateLimiter(
      (model) =>
        model === "limited"
          ? { requestsPerMinute: 1, tokensPerMinute: 0 }
          : { requestsPerMinute: 0, tokensPerMinute: 0 },
      time.now,
      time.sleep,
    );
    await limiter.acquire("limited", Number.POSITIVE_INFINITY);
    for (let i = 0; i < 100; i++) await limiter.acquire("free", Number.POSITIVE_INFINITY);
    assert.deepEqual(time.sleeps, []);
  });

  it("refuses instead of waiting past the deadline", async () => {
    const time = virtualTime();
    const limiter = new UpstreamRateLimiter(
      () => ({ requestsPerMinute: 1, tokensPerMinute: 0 }),
      time.now,
      time.sleep,
    );
    await limiter.acquire("m", Number.POSITIVE_INFINITY);
    await assert.rejects(
      limiter.acquire("m", 30_000),
      (error: unknown) =>
        OrchestratorError.isInstance(error) &&
        error.code === "upstream_rate_limit" &&
        error.retryAfterMs === 60_000,
    );
  });
});
