import { OrchestratorError } from "../core/errors.ts";

export type CircuitState = "closed" | "open" | "half_open";

export interface CircuitSettings {
  readonly failureThreshold: number;
  readonly openMs: number;
}

export interface CircuitSnapshot {
  readonly key: string;
  readonly state: CircuitState;
  readonly consecutiveFailures: number;
  readonly openedAt: number | undefined;
  readonly retryAt: number | undefined;
}

// `remote`: the change was adopted from another process that shares this breaker's state.
export type CircuitListener = (event: {
  key: string;
  from: CircuitState;
  to: CircuitState;
  origin: "local" | "remote";
}) => void;

// A consecutive-failure breaker for one upstream model. Open after `failureThreshold` failures in a row,
// it refuses calls for `openMs`; then it lets exactly one trial call through (half-open), which closes
// it on success or opens it again on failure.
export class CircuitBreaker {
  readonly key: string;
  readonly #settings: CircuitSettings;
  readonly #now: () => number;
  readonly #listener: CircuitListener | undefined;
  #state: CircuitState = "closed";
  #failures = 0;
  #openedAt: number | undefined;
  #trialInFlight = false;

  constructor(key: string, settings: CircuitSettings, now: () => number, listener?: CircuitListener) {
    this.key = key;
    this.#settings = settings;
    this.#now = now;
    this.#listener = listener;
  }

  // True when a call may go out now. In half-open state only the first caller gets through.
  tryAcquire(): boolean {
    if (this.#state === "closed") return true;
    if (this.#state === "open") {
      if (this.#now() < this.#retryAt()) return false;
      this.#move("half_open");
    }
    if (this.#trialInFlight) return false;
    this.#trialInFlight = true;
    return true;
  }

  onSuccess(): void {
    this.#trialInFlight = false;
    this.#failures = 0;
    if (this.#state !== "closed") {
      this.#openedAt = undefined;
      this.#move("closed");
    }
  }

  onFailure(): void {
    this.#trialInFlight = false;
    this.#failures++;
    if (
      this.#state === "half_open" ||
      (this.#state === "closed" && this.#failures >= this.#settings.failureThreshold)
    ) {
      this.#openedAt = this.#now();
      this.#move("open");
    }
  }

  // A call that ended without telling anything about the upstream's health (cancelled, refused by us).
  onNeutral(): void {
    this.#trialInFlight = false;
  }

  // Takes over a state another process decided (replicas share their breakers through Redis).
  adopt(to: "open" | "closed", openedAt?: number): void {
    if (to === "closed" && this.#state === "closed") return;
    if (to === "open" && this.#state === "open" && openedAt === this.#openedAt) return;
    this.#trialInFlight = false;
    if (to === "open") {
      this.#openedAt = openedAt ?? this.#now();
      this.#failures = Math.max(this.#failures, this.#settings.failureThreshold);
    } else {
      this.#openedAt = undefined;
      this.#failures = 0;
    }
    this.#move(to, "remote");
  }

  snapshot(): CircuitSnapshot {
    const open = this.#state === "open";
    return {
      key: this.key,
      state: open && this.#now() >= this.#retryAt() ? "half_open" : this.#state,
      consecutiveFailures: this.#failures,
      openedAt: this.#openedAt,
      retryAt: open ? this.#retryAt() : undefined,
    };
  }

  openError(): OrchestratorError {
    const retryAfterMs = Math.max(0, this.#retryAt() - this.#now());
    return new OrchestratorError({
      kind: "fatal",
      code: "circuit_open",
      status: 503,
      retryable: true,
      model: this.key,
      retryAfterMs,
      message: `model ${this.key} is failing (${this.#failures} failures in a row); its circuit is open for another ${Math.ceil(retryAfterMs / 1000)} s`,
    });
  }

  #retryAt(): number {
    return (this.#openedAt ?? 0) + this.#settings.openMs;
  }

  #move(to: CircuitState, origin: "local" | "remote" = "local"): void {
    const from = this.#state;
    this.#state = to;
    this.#listener?.({ key: this.key, from, to, origin });
  }
}

// One breaker per upstream model, created on first use.
export class CircuitBreakers {
  readonly #breakers = new Map<string, CircuitBreaker>();
  readonly #settings: CircuitSettings;
  readonly #now: () => number;
  readonly #listeners: CircuitListener[] = [];

  constructor(settings: CircuitSettings, now: () => number) {
    this.#settings = settings;
    this.#now = now;
  }

  for(key: string): CircuitBreaker {
    let breaker = this.#breakers.get(key);
    if (!breaker) {
      breaker = new CircuitBreaker(key, this.#settings, this.#now, (event) => {
        for (const listener of this.#listeners) listener(event);
      });
      this.#breakers.set(key, breaker);
    }
    return breaker;
  }

  onStateChange(listener: CircuitListener): void {
    this.#listeners.push(listener);
  }

  // Whether calls to `key` are refused right now (open and not yet due a trial); a key never called is not.
  refusing(key: string): boolean {
    return this.#breakers.get(key)?.snapshot().state === "open";
  }

  snapshots(): CircuitSnapshot[] {
    return [...this.#breakers.values()].map((breaker) => breaker.snapshot());
  }
}
