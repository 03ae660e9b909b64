import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { processName } from "../core/process-name.ts";
import type { CircuitBreakers } from "../resilience/circuit-breaker.ts";
import { RedisChannel } from "./redis-channel.ts";

interface CircuitMessage {
  readonly origin: string;
  readonly key: string;
  readonly to: "open" | "closed";
  readonly openedAt?: number | undefined;
}

// Shares circuit breakers between replicas: when one process opens or closes a model's circuit, every
// process follows, and a process that starts later reads the circuits that are open from a Redis hash.
export async function shareCircuits(options: {
  breakers: CircuitBreakers;
  redis: Redis;
  subscriber: Redis;
  keyPrefix: string;
  openMs: number;
  now: () => number;
  logger: Logger;
}): Promise<void> {
  const { breakers, redis, keyPrefix, now } = options;
  // Two apps in one process (tests) must still tell their messages apart.
  const self = `${processName()}:${Math.random().toString(36).slice(2, 8)}`;
  const hash = `${keyPrefix}:circuits`;
  const channel = new RedisChannel<CircuitMessage>({
    publisher: redis,
    subscriber: options.subscriber,
    name: `${keyPrefix}:circuits`,
    logger: options.logger,
  });
  channel.onMessage((message) => {
    if (message.origin !== self) breakers.for(message.key).adopt(message.to, message.openedAt);
  });
  breakers.onStateChange(({ key, to, origin }) => {
    if (origin !== "local" || to === "half_open") return;
    const message: CircuitMessage = {
      origin: self,
      key,
      to,
      openedAt: breakers.for(key).snapshot().openedAt,
    };
    const stored = to === "open" ? redis.hset(hash, key, JSON.stringify(message)) : redis.hdel(hash, key);
    Promise.all([stored, channel.publish(message)]).catch((error: unknown) =>
      options.logger.warn({ err: error, model: key }, "could not share a circuit change"),
    );
  });
  await channel.ready();
  for (const [key, text] of Object.entries(await redis.hgetall(hash))) {
    const message = JSON.parse(text) as CircuitMessage;
    if ((message.openedAt ?? 0) + options.openMs > now()) breakers.for(key).adopt("open", message.openedAt);
  }
}
