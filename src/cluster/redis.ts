import { Redis } from "ioredis";

// One place that knows how to connect to Redis. BullMQ's blocking connections need
// maxRetriesPerRequest: null; the same settings suit the pub/sub and state connections.
export function connectRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}

export function redactRedisUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}
