import { realSleep, type Sleeper } from "../../src/core/sleeper.ts";

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

// The real clock, which a test can move forward: time-based state (an open circuit) expires at once, without
// a sleep that a busy machine could stretch past the next assertion.
export function movableClock() {
  let offset = 0;
  const now = () => Date.now() + offset;
  return {
    clock: { now, isoNow: () => new Date(now()).toISOString() },
    advance: (ms: number) => {
      offset += ms;
    },
  };
}

// Really sleeps, and records each delay asked for.
export function recordingSleep() {
  const sleeps: number[] = [];
  const sleep: Sleeper = (ms, signal) => {
    sleeps.push(ms);
    return realSleep(ms, signal);
  };
  return { sleep, sleeps };
}
