import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { OrchestratorError } from "../core/errors.ts";
import { clientKeyId } from "./client-identity.ts";
import { presentedClientKey } from "./client-key.ts";
import { isWebAsset } from "./routes/web-routes.ts";

// Optional API keys for the service itself. With none configured (the default, for local use) every
// request is let in; with some, every request but the health check and CORS preflights needs a key, sent
// as `Authorization: Bearer <key>`, `x-api-key` or `api-key`.
export function installClientAuth(app: FastifyInstance, keys: readonly string[]): void {
  if (keys.length === 0) return;
  const digests = keys.map(digest);
  app.addHook("onRequest", async (request) => {
    if (request.url === "/health" || request.method === "OPTIONS" || isWebAsset(request.url)) return;
    const presented = presentedClientKey(request.headers) ?? "";
    const candidate = digest(presented);
    // Compare digests in constant time, so response timing says nothing about a key's prefix.
    if (presented && digests.some((known) => timingSafeEqual(known, candidate))) {
      // What the request's sessions, runs and limits belong to.
      if (request.orchestration) request.orchestration.clientId = clientKeyId(presented);
      return;
    }
    throw new OrchestratorError({
      kind: "persistent",
      code: "invalid_api_key",
      status: 401,
      message: presented
        ? "the API key is not valid for this service"
        : "this service requires an API key: send Authorization: Bearer <key> (or x-api-key: <key>)",
    });
  });
}

function digest(key: string): Buffer {
  return createHash("sha256").update(key).digest();
}
