import { performance } from "node:perf_hooks";

// How long a request has been waiting on upstream calls: the wall-clock time during which at least one of
// its calls was in flight (parallel calls count once). The rest of the request's time is the service's own,
// reported as x-orchestrator-overhead-ms.
export class UpstreamTime {
  readonly #now: () => number;
  #inFlight = 0;
  #since = 0;
  #totalMs = 0;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  enter(): void {
    if (this.#inFlight++ === 0) this.#since = this.#now();
  }

  leave(): void {
    if (this.#inFlight === 0) return;
    if (--this.#inFlight === 0) this.#totalMs += this.#now() - this.#since;
  }

  ms(): number {
    return this.#totalMs + (this.#inFlight > 0 ? this.#now() - this.#since : 0);
  }
}

// The service's own time in a request that has been running for `elapsedMs`.
export function overheadMs(elapsedMs: number, upstream: UpstreamTime | undefined): number {
  return Math.max(0, elapsedMs - (upstream?.ms() ?? 0));
}
