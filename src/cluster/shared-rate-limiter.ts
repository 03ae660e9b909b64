import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Sleeper } from "../core/sleeper.ts";
import {
  type ModelRateLimit,
  type RateLimiter,
  type RateLimitPermit,
  rateLimitError,
  windowMs,
} from "../resilience/upstream-rate-limiter.ts";

// One atomic step per attempt: forget calls older than the window, then either record this call (and
// answer 0) or answer how long until it would fit. Calls are a sorted set by time; their tokens a hash.
const acquireScript = `
local calls, tokens = KEYS[1], KEYS[2]
local window, rpm, tpm, id = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
-- Redis's clock, not the callers': every replica sees the same minute.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local old = redis.call('ZRANGEBYSCORE', calls, '-inf', now - window)
for i = 1, #old do redis.call('HDEL', tokens, old[i]) end
redis.call('ZREMRANGEBYSCORE', calls, '-inf', now - window)
local wait = 0
local entries = redis.call('ZRANGE', calls, 0, -1, 'WITHSCORES')
local count = #entries / 2
if rpm > 0 and count >= rpm then
  local oldest = tonumber(entries[(count - rpm) * 2 + 2])
  wait = math.max(wait, oldest + window - now)
end
if tpm > 0 and count > 0 then
  local spent, used = {}, 0
  for i = 1, count do
    spent[i] = tonumber(redis.call('HGET', tokens, entries[i * 2 - 1])) or 0
    used = used + spent[i]
  end
  local i = 1
  while used >= tpm and i <= count do
    used = used - spent[i]
    wait = math.max(wait, tonumber(entries[i * 2]) + window - now)
    i = i + 1
  end
end
if wait <= 0 then
  redis.call('ZADD', calls, now, id)
  redis.call('HSET', tokens, id, 0)
  redis.call('PEXPIRE', calls, window)
  redis.call('PEXPIRE', tokens, window)
  return 0
end
return wait
`;

// The upstream rate limits of every replica together: the same sliding minute as the in-process limiter,
// kept in Redis, so two API replicas and their workers stay within one budget per model.
export class SharedRateLimiter implements RateLimiter {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #limitFor: (model: string) => ModelRateLimit;
  readonly #now: () => number;
  readonly #sleep: Sleeper;

  constructor(options: {
    redis: Redis;
    keyPrefix: string;
    limitFor: (model: string) => ModelRateLimit;
    now: () => number;
    sleep: Sleeper;
  }) {
    this.#redis = options.redis;
    this.#prefix = options.keyPrefix;
    this.#limitFor = options.limitFor;
    this.#now = options.now;
    this.#sleep = options.sleep;
  }

  async acquire(model: string, deadline: number, signal?: AbortSignal): Promise<RateLimitPermit> {
    const limit = this.#limitFor(model);
    if (limit.requestsPerMinute === 0 && limit.tokensPerMinute === 0) return { settle: () => undefined };
    const calls = `${this.#prefix}:ratelimit:${model}:calls`;
    const tokens = `${this.#prefix}:ratelimit:${model}:tokens`;
    const id = randomUUID();
    for (;;) {
      const now = this.#now();
      let waitMs: number;
      try {
        waitMs = Number(
          await this.#redis.eval(
            acquireScript,
            2,
            calls,
            tokens,
            windowMs,
            limit.requestsPerMinute,
            limit.tokensPerMinute,
            id,
          ),
        );
      } catch {
        // Redis unreachable: the call goes ahead rather than the whole service stopping with it.
        return { settle: () => undefined };
      }
      if (waitMs <= 0) {
        return {
          settle: (used) => {
            void this.#redis.hset(tokens, id, used).catch(() => undefined);
          },
        };
      }
      if (now + waitMs > deadline) throw rateLimitError(model, waitMs);
      await this.#sleep(waitMs, signal);
    }
  }
}
