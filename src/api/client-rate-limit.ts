import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import { OrchestratorError } from "../core/errors.ts";
import { rateLimitKeyOf } from "./client-identity.ts";
import { isWebAsset } from "./routes/web-routes.ts";

// Per-client request limit on the API: clients are told apart by their validated API key, else (open mode)
// by address, so a made-up bearer token is no new identity. Health checks are never limited, so a busy
// client cannot make the service look dead. With Redis, replicas count each client's requests together.
export async function registerClientRateLimit(
  app: FastifyInstance,
  requestsPerMinute: number,
  shared?: { redis: Redis; keyPrefix: string },
): Promise<void> {
  if (requestsPerMinute <= 0) return;
  await app.register(rateLimit, {
    global: true,
    // An unreachable Redis lets requests through rather than refusing everyone.
    ...(shared ? { redis: shared.redis, nameSpace: `${shared.keyPrefix}:clients:`, skipOnError: true } : {}),
    max: requestsPerMinute,
    timeWindow: 60_000,
    keyGenerator: rateLimitKeyOf,
    allowList: (request) => request.url === "/health" || isWebAsset(request.url),
    errorResponseBuilder: (_request, context) =>
      new OrchestratorError({
        kind: "transient",
        code: "rate_limited",
        status: 429,
        retryAfterMs: context.ttl,
        message: `too many requests: this client may send ${context.max} per minute; retry in ${Math.ceil(context.ttl / 1000)} s`,
      }),
  });
}
