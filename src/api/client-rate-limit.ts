import { createHash } from "node:crypto";
import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Redis } from "ioredis";
import { OrchestratorError } from "../core/errors.ts";
import { presentedClientKey } from "./client-key.ts";
import { isWebAsset } from "./routes/web-routes.ts";

// Per-client request limit on the API: clients are told apart by their API key when they send one,
// else by address. Health checks are never limited, so a busy client cannot make the service look dead.
// With Redis, replicas count each client's requests together.
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
    keyGenerator: clientKey,
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

function clientKey(request: FastifyRequest): string {
  const key = presentedClientKey(request.headers);
  if (key) {
    // Keep a digest, never the key itself.
    return `key:${createHash("sha256").update(key).digest("base64url").slice(0, 22)}`;
  }
  return `ip:${request.ip}`;
}
