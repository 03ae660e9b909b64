import cors from "@fastify/cors";
import type { FastifyInstance } from "fastify";

// Lets browser apps call the API directly. Keys travel in headers, never cookies, so no credentials mode;
// preflights are answered before authentication, which a browser's OPTIONS request never carries.
export async function registerCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  if (origins.length === 0) return;
  await app.register(cors, {
    origin: origins.includes("*") ? "*" : [...origins],
    credentials: false,
    methods: ["GET", "POST", "DELETE", "OPTIONS"],
    // Who answered and why, the request id and when to retry, readable by the page's script.
    exposedHeaders: [
      "x-request-id",
      "x-orchestrator-category",
      "x-orchestrator-role",
      "x-orchestrator-model",
      "x-orchestrator-provider",
      "x-orchestrator-route",
      "retry-after",
    ],
    maxAge: 600,
  });
}
