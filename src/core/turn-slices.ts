import { TurnClock } from "./turn-clock.ts";

// Shares out the event loop's turns among bursts of work that may wait: `wait()` resolves at once while the
// current turn has run work for less than `sliceMs`; past that, callers queue in arrival order and are let
// through a slice at a time in later turns, so a thousand requests arriving together are handled over many
// short turns (timers and sockets served in between) instead of in one long one.
export class TurnSlices {
  readonly #sliceMs: number;
  readonly #turn: TurnClock;
  readonly #waiting: Array<() => void> = [];
  #draining = false;

  constructor(sliceMs: number, now: () => number = () => performance.now()) {
    this.#sliceMs = sliceMs;
    this.#turn = new TurnClock(now);
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  wait(): Promise<void> {
    if (this.#waiting.length === 0 && this.#turn.elapsed() < this.#sliceMs) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.#drainNextTurn();
    });
  }

  #drainNextTurn(): void {
    if (this.#draining) return;
    this.#draining = true;
    setImmediate(() => {
      this.#draining = false;
      this.#letThrough();
    });
  }

  // Lets one waiter through; once its work up to its next wait has run (the microtask after its own), the
  // next one, until the slice is used up.
  #letThrough(): void {
    if (this.#waiting.length === 0) return;
    if (this.#turn.elapsed() >= this.#sliceMs) {
      this.#drainNextTurn();
      return;
    }
    this.#waiting.shift()?.();
    queueMicrotask(() => this.#letThrough());
  }
}
