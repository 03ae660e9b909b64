import { createHash } from "node:crypto";
import type { FastifyRequest } from "fastify";

// Who a request comes from. With client keys configured it is the id of the key the request presented
// (validated by client auth): a digest, so records and Redis keys never hold the key itself. In open mode
// there is no client id; limits then key on the client's address instead.
export function clientKeyId(key: string): string {
  return createHash("sha256").update(key).digest("base64url").slice(0, 22);
}

export function clientIdOf(request: FastifyRequest): string | undefined {
  return request.orchestration?.clientId;
}

// What per-client limits count by: the validated key's id, else the address (behind a proxy, the
// forwarded one only when system.trustProxy says the proxy is trusted).
export function rateLimitKeyOf(request: FastifyRequest): string {
  const clientId = clientIdOf(request);
  return clientId ? `key:${clientId}` : `ip:${request.ip}`;
}
