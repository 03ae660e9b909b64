// Everything that needs Redis and the queue (ioredis, bullmq), in one module the composition root imports
// only when REDIS_URL is set: a single process never loads them.
export { Cluster } from "./cluster.ts";
export { QueueExecutor } from "./queue-executor.ts";
export { RunDriver } from "./run-driver.ts";
export { shareCircuits } from "./shared-circuits.ts";
export { SharedRateLimiter } from "./shared-rate-limiter.ts";
export { SharedResponseCache } from "./shared-response-cache.ts";
export { SharedSpendTotals } from "./shared-spend-totals.ts";
