import type { AppConfig } from "../config/index.ts";
import { realSleep, type Sleeper } from "../core/sleeper.ts";
import type { RandomSource } from "./backoff.ts";
import { CircuitBreakers } from "./circuit-breaker.ts";
import { ModelKeys } from "./model-keys.ts";
import { ModelSchedulers } from "./model-schedulers.ts";
import type { RetryPolicy } from "./retry.ts";
import { type RateLimiter, UpstreamRateLimiter } from "./upstream-rate-limiter.ts";

// Everything that guards upstream calls, built once from config and shared by every caller.
export interface Resilience {
  readonly breakers: CircuitBreakers;
  readonly limiter: RateLimiter;
  readonly scheduler: ModelSchedulers;
  // Bounds the model ids breakers, rate-limit windows and metrics are kept for.
  readonly modelKeys: ModelKeys;
  readonly policy: RetryPolicy;
  readonly sleep: Sleeper;
  readonly random: RandomSource;
  // Deadline of one upstream call, and of a whole role call with its retries and fallbacks.
  readonly requestTimeoutMs: number;
  readonly callDeadlineMs: number;
}

export interface ResilienceOptions {
  readonly now: () => number;
  readonly sleep?: Sleeper;
  readonly random?: RandomSource;
  // Shared budgets (Redis) instead of this process's own.
  readonly limiter?: RateLimiter;
}

export function createResilience(config: AppConfig, options: ResilienceOptions): Resilience {
  const { errorHandling, queuing, rateLimits } = config;
  const sleep = options.sleep ?? realSleep;
  return {
    breakers: new CircuitBreakers(
      {
        failureThreshold: errorHandling.circuitBreaker.failureThreshold,
        openMs: errorHandling.circuitBreaker.timeoutSeconds * 1000,
      },
      options.now,
    ),
    limiter:
      options.limiter ??
      new UpstreamRateLimiter(
        (key) => rateLimits.upstream.models[key] ?? rateLimits.upstream.default,
        options.now,
        sleep,
      ),
    scheduler: new ModelSchedulers((key) => queuing.models[key] ?? queuing.maxConcurrentCallsPerModel, {
      high: queuing.highPriorityRatio,
      medium: queuing.mediumPriorityRatio,
      low: queuing.lowPriorityRatio,
    }),
    modelKeys: new ModelKeys(configuredDeployments(config), config.monitoring.maxTrackedModels),
    policy: errorHandling.retry,
    sleep,
    random: options.random ?? Math.random,
    requestTimeoutMs: errorHandling.requestTimeoutMs,
    callDeadlineMs: errorHandling.callDeadlineMs,
  };
}

// Every deployment the config names: each role's model and fallbacks on its provider, and its deployments.
function configuredDeployments(config: AppConfig): { provider: string; model: string }[] {
  return Object.values(config.models).flatMap((entry) =>
    typeof entry === "string"
      ? []
      : [
          ...[entry.model, ...entry.fallbacks].map((model) => ({ provider: entry.provider, model })),
          ...(entry.deployments ?? []),
        ],
  );
}
