import type { UpstreamCall } from "../../src/store/upstream-call.ts";

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
