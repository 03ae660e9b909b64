import type { Sleeper } from "../../src/resilience/sleeper.ts";

// A clock that only moves when someone sleeps: retry and rate-limit logic runs in microseconds.
export function virtualTime(start = 0) {
  let now = start;
  const sleeps: number[] = [];
  const sleep: Sleeper = async (ms, signal) => {
    signal?.throwIfAborted();
    sleeps.push(ms);
    now += ms;
  };
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    sleep,
    sleeps,
  };
}
