import type { OrchestratorError } from "../core/errors.ts";
import type { Sleeper } from "../core/sleeper.ts";
import { type BackoffSettings, type RandomSource, retryDelay } from "./backoff.ts";

export interface RetryPolicy extends BackoffSettings {
  // Total tries (the first call included) per error kind; kinds not listed are never retried.
  readonly maxAttempts: Readonly<Partial<Record<OrchestratorError["kind"], number>>>;
}

export interface RetryOptions {
  readonly policy: RetryPolicy;
  readonly sleep: Sleeper;
  readonly random: RandomSource;
  readonly now: () => number;
  // Absolute time (ms) after which no retry may start or be waited for.
  readonly deadline: number;
  readonly signal?: AbortSignal | undefined;
  readonly onRetry?: (event: { attempt: number; delayMs: number; error: OrchestratorError }) => void;
}

// How long to wait before trying again after `error` on try number `attemptNumber`, or undefined to give up.
export function planRetry(
  error: OrchestratorError,
  attemptNumber: number,
  options: RetryOptions,
): number | undefined {
  const allowed = options.policy.maxAttempts[error.kind] ?? 1;
  if (!error.retryable || attemptNumber >= allowed || options.signal?.aborted) return undefined;
  const delayMs = retryDelay(attemptNumber - 1, options.policy, options.random, error.retryAfterMs);
  return options.now() + delayMs >= options.deadline ? undefined : delayMs;
}
