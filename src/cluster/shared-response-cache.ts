import type { Redis } from "ioredis";
import type { CachedAnswer, ResponseCache } from "../models/response-cache.ts";

// The response cache of every replica together, in Redis, each answer expiring after the TTL. Redis's own
// memory policy bounds its size.
export class SharedResponseCache implements ResponseCache {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttlMs: number;

  constructor(options: { redis: Redis; keyPrefix: string; ttlSeconds: number }) {
    this.#redis = options.redis;
    this.#prefix = `${options.keyPrefix}:cache:`;
    this.#ttlMs = Math.round(options.ttlSeconds * 1000);
  }

  async get(key: string): Promise<CachedAnswer | undefined> {
    const text = await this.#redis.get(this.#prefix + key);
    return text === null ? undefined : (JSON.parse(text) as CachedAnswer);
  }

  set(key: string, answer: CachedAnswer): void {
    void this.#redis
      .set(this.#prefix + key, JSON.stringify(answer), "PX", this.#ttlMs)
      .catch(() => undefined);
  }
}
