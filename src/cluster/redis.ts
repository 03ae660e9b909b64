import { Redis } from "ioredis";

// One place that knows how to connect to Redis. BullMQ's connections wait for Redis to come back
// (maxRetriesPerRequest: null), which is right for queue work and subscriptions.
export function connectRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}

// Shared state on the request path (cache, rate limits, circuit changes) must fail fast instead: while
// Redis is down its commands fail at once, and their callers carry on without it.
export function connectRedisFailFast(url: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: 2_000,
    enableReadyCheck: true,
  });
}
