// Lets one piece of work through per turn of the event loop while others wait: the first in a turn runs at
// once, later ones run one per turn, in arrival order, each after everything the previous one set off on
// the microtask queue (its promise chains up to their first real wait) has run. Unlike a time slice, this
// also bounds work that a start only queues: a hundred starts let through together would each run their
// promise chains afterwards, in one long turn.
export class TurnGate {
  readonly #waiting: Array<() => void> = [];
  // Work that throws is reported here; the gate goes on with the next.
  readonly #onError: (error: unknown) => void;
  #busy = false;

  constructor(onError: (error: unknown) => void) {
    this.#onError = onError;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  run(work: () => void): void {
    if (this.#busy) {
      this.#waiting.push(work);
      return;
    }
    this.#busy = true;
    this.#runThenNext(work);
  }

  #runThenNext(work: () => void): void {
    setImmediate(() => this.#next());
    try {
      work();
    } catch (error) {
      this.#onError(error);
    }
  }

  #next(): void {
    const work = this.#waiting.shift();
    if (work === undefined) {
      this.#busy = false;
      return;
    }
    this.#runThenNext(work);
  }
}
