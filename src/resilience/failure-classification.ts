import type { OrchestratorError } from "../core/errors.ts";

export type BreakerVerdict = "unhealthy" | "neutral";

// Failures that say the upstream itself is not well, whatever the request was.
const unhealthyCodes = new Set([
  "upstream_timeout",
  "upstream_unreachable",
  "upstream_error",
  "upstream_unavailable",
  "upstream_stream_error",
  "upstream_malformed",
  "upstream_truncated",
]);

// Whether a failed try counts toward its model's circuit breaker. Only an unhealthy upstream does: a 5xx,
// a timeout, a connection that failed, a 429 that retrying did not cure. A request the upstream refused
// (400, 404, 413, 422, and the account's own 401/402/403) says nothing about the model's health, and
// neither does a caller that gave up: counting them would let one client's bad requests take a model
// away from everyone.
export function breakerVerdict(
  error: OrchestratorError,
  context: { readonly callerAborted: boolean; readonly willRetry: boolean },
): BreakerVerdict {
  if (context.callerAborted || error.kind === "logical") return "neutral";
  const status = error.upstreamStatus;
  if (status !== undefined) {
    if (status === 429) return context.willRetry ? "neutral" : "unhealthy";
    return status >= 500 || status === 408 ? "unhealthy" : "neutral";
  }
  return unhealthyCodes.has(error.code) ? "unhealthy" : "neutral";
}
