import { TurnClock } from "../core/turn-clock.ts";

// One holder at a time, served in arrival order with one wake-up each. Handing the lock on to the next
// waiter happens at once while the current turn of the event loop has run for less than `sliceMs` of lock
// activity; past that, the next holder starts only after the loop has turned (timers, sockets), so a long
// queue of holders is worked through in bounded slices instead of one block.
export class TurnTakingLock {
  readonly #sliceMs: number;
  readonly #turn: TurnClock;
  readonly #waiting: Array<() => void> = [];
  #held = false;

  constructor(sliceMs: number, now: () => number = () => performance.now()) {
    this.#sliceMs = sliceMs;
    this.#turn = new TurnClock(now);
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  acquire(): Promise<void> {
    this.#turn.elapsed();
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (!next) {
      this.#held = false;
      return;
    }
    // Still held: it passes straight to the next waiter, now or after the loop has turned.
    if (this.#turn.elapsed() < this.#sliceMs) next();
    else setImmediate(next);
  }
}
