// How long work has run in the current turn of the event loop: started by the first reading in a turn and
// reset once the loop turns (a setImmediate), so bursts of work can be cut into bounded slices.
export class TurnClock {
  readonly #now: () => number;
  #turnStart: number | undefined;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  elapsed(): number {
    const now = this.#now();
    if (this.#turnStart === undefined) {
      this.#turnStart = now;
      setImmediate(() => {
        this.#turnStart = undefined;
      });
    }
    return now - this.#turnStart;
  }
}
