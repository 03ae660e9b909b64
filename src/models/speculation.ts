import type { SpeculativeCall, Spend } from "../resilience/upstream-guard.ts";

// A call started before its route is known: the likely route's answer, started alongside the categorizer so
// that the categorizer's round trip is not added to the answer's. The label then confirms it (its answer is
// used as it arrives) or refutes it (it is aborted at once). Until then its ledger rows wait, so that a
// refuted call is written as speculative waste, with what it had cost, and a confirmed one as the answer.
export class Speculation {
  readonly role: string;
  readonly #abort = new AbortController();
  readonly #held: ((wasted: boolean) => void)[] = [];
  #state: "pending" | "confirmed" | "refuted" = "pending";
  #receivedChars = 0;
  readonly #wasted: Spend[] = [];

  constructor(role: string) {
    this.role = role;
  }

  get state(): "pending" | "confirmed" | "refuted" {
    return this.#state;
  }

  // Aborted when the route is refuted.
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  confirm(): void {
    this.#settle("confirmed");
  }

  refute(): void {
    if (this.#state !== "pending") return;
    this.#settle("refuted");
    this.#abort.abort(new Error("the route was refuted by the categorizer's label"));
  }

  // Text that arrived from the upstream: part of what a refuted call cost.
  noteText(text: string): void {
    this.#receivedChars += text.length;
  }

  // What the refuted tries were taken to cost, once they have ended (see StartedAnswer.ended).
  wastedSpend(): Spend | undefined {
    if (this.#wasted.length === 0) return undefined;
    return {
      promptTokens: this.#wasted.reduce((n, s) => n + s.promptTokens, 0),
      completionTokens: this.#wasted.reduce((n, s) => n + s.completionTokens, 0),
      costUsd: this.#wasted.reduce((n, s) => n + s.costUsd, 0),
      costSource: "estimate",
    };
  }

  // What the guard holds of one try of this call; `estimate` prices a refuted try from the text received.
  forCall(estimate: (receivedChars: number) => Spend): SpeculativeCall {
    let spend: Spend | undefined;
    return {
      wasted: () => {
        if (this.#state !== "refuted") return undefined;
        if (!spend) {
          spend = estimate(this.#receivedChars);
          this.#wasted.push(spend);
        }
        return spend;
      },
      hold: (write) => {
        if (this.#state === "pending") this.#held.push(write);
        else write(this.#state === "refuted");
      },
    };
  }

  #settle(state: "confirmed" | "refuted"): void {
    if (this.#state !== "pending") return;
    this.#state = state;
    for (const write of this.#held.splice(0)) write(state === "refuted");
  }
}
