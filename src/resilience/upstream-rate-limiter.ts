import { OrchestratorError } from "../core/errors.ts";
import type { Sleeper } from "../core/sleeper.ts";

export interface ModelRateLimit {
  // 0 means no limit.
  readonly requestsPerMinute: number;
  readonly tokensPerMinute: number;
}

export interface RateLimitPermit {
  // Reports what the call really used, so the token budget counts actual traffic.
  settle(tokens: number): void;
}

export const windowMs = 60_000;

// Where the budgets are kept: in this process, or in Redis when replicas share them.
export interface RateLimiter {
  acquire(model: string, deadline: number, signal?: AbortSignal): Promise<RateLimitPermit>;
}

export function rateLimitError(model: string, waitMs: number): OrchestratorError {
  return new OrchestratorError({
    kind: "resource",
    code: "upstream_rate_limit",
    status: 503,
    retryable: true,
    retryAfterMs: waitMs,
    model,
    message: `the configured rate limit for ${model} is reached; room frees up in ${Math.ceil(waitMs / 1000)} s`,
  });
}

// Keeps calls to each upstream model within its requests- and tokens-per-minute budget over a sliding
// minute. Calls over budget wait for room rather than fail, unless the wait would pass their deadline.
// Tokens are counted after each call, so a budget can be overshot by the calls already in flight.
export class UpstreamRateLimiter implements RateLimiter {
  readonly #limitFor: (model: string) => ModelRateLimit;
  readonly #now: () => number;
  readonly #sleep: Sleeper;
  readonly #windows = new Map<string, Array<{ at: number; tokens: number }>>();

  constructor(limitFor: (model: string) => ModelRateLimit, now: () => number, sleep: Sleeper) {
    this.#limitFor = limitFor;
    this.#now = now;
    this.#sleep = sleep;
  }

  async acquire(model: string, deadline: number, signal?: AbortSignal): Promise<RateLimitPermit> {
    const limit = this.#limitFor(model);
    if (limit.requestsPerMinute === 0 && limit.tokensPerMinute === 0) return { settle: () => undefined };
    for (;;) {
      const now = this.#now();
      const window = this.#window(model, now);
      const waitMs = this.#waitFor(window, limit, now);
      if (waitMs === 0) {
        const entry = { at: now, tokens: 0 };
        window.push(entry);
        return {
          settle: (tokens) => {
            entry.tokens = tokens;
          },
        };
      }
      if (now + waitMs > deadline) throw rateLimitError(model, waitMs);
      await this.#sleep(waitMs, signal);
    }
  }

  #window(model: string, now: number) {
    let window = this.#windows.get(model);
    if (!window) {
      window = [];
      this.#windows.set(model, window);
    }
    while (window.length > 0 && (window[0]?.at ?? 0) <= now - windowMs) window.shift();
    return window;
  }

  // How long until one more call fits: 0 if it fits now.
  #waitFor(
    window: ReadonlyArray<{ at: number; tokens: number }>,
    limit: ModelRateLimit,
    now: number,
  ): number {
    let wait = 0;
    if (limit.requestsPerMinute > 0 && window.length >= limit.requestsPerMinute) {
      const oldest = window[window.length - limit.requestsPerMinute];
      wait = Math.max(wait, (oldest?.at ?? now) + windowMs - now);
    }
    if (limit.tokensPerMinute > 0) {
      let used = window.reduce((sum, entry) => sum + entry.tokens, 0);
      for (const entry of window) {
        if (used < limit.tokensPerMinute) break;
        used -= entry.tokens;
        wait = Math.max(wait, entry.at + windowMs - now);
      }
    }
    return Math.max(0, wait);
  }
}
