import type { UpstreamCall } from "../../src/store/upstream-call.ts";
import type { LedgerEntry, RequestEntry } from "../../src/store/usage-store.ts";

// One answered chat call as the guard reports it; a test changes what it is about.
export const upstreamCall = (overrides: Partial<UpstreamCall> = {}): UpstreamCall => ({
  purpose: "answer",
  kind: "chat",
  role: "medium_ai",
  model: "m",
  provider: "openrouter",
  outcome: "ok",
  promptTokens: 1_000_000,
  completionTokens: 1_000_000,
  latencyMs: 10,
  costUsd: 0.42,
  costSource: "upstream",
  ...overrides,
});

// The same call as the ledger stores it, for one request at a fixed time; a test changes what it is about.
export const ledgerEntry = (overrides: Partial<LedgerEntry> = {}): LedgerEntry => ({
  ...upstreamCall({ costUsd: 0.01 }),
  at: "2026-01-02T10:00:00.000Z",
  requestId: "req-1",
  endpoint: "/chat",
  sessionId: null,
  workflowId: null,
  category: "M",
  baselineUsd: 0,
  ...overrides,
});

// That request's row in the request log.
export const requestEntry = (overrides: Partial<RequestEntry> = {}): RequestEntry => ({
  at: "2026-01-02T10:00:01.000Z",
  requestId: "req-1",
  method: "POST",
  endpoint: "/chat",
  status: 200,
  category: "M",
  latencyMs: 12.5,
  cacheHit: false,
  sessionId: null,
  routeRule: "category",
  ...overrides,
});
