import { Worker } from "node:worker_threads";
import { BoundedCount, type CountOutcome, overLimitBySample } from "./bounded-count.ts";
import type { CountJob } from "./token-count-worker.ts";

export type { CountOutcome } from "./bounded-count.ts";

// Counting tokens exactly takes the o200k_base BPE tables (about 40 MB) and, for all but small texts, a
// worker thread that loads them again. Most requests are far from any token threshold, so they get an
// estimate from their length, and the tokenizer is loaded only when a count has to be exact (a context near
// a routing threshold); its worker thread stops once it has been idle for a while.
export interface TokenCounter {
  // Exact count with the BPE tokenizer; all but small texts are counted on the worker thread so no message
  // can stall every other request on the event loop.
  count(text: string): Promise<number>;
  // The texts of one request as one job, counted until the total passes `stopAbove` (the limit that decides
  // the outcome): the work is bounded by that limit, not by the size of the body.
  countUpTo(texts: readonly string[], stopAbove: number): Promise<CountOutcome>;
  // No tokenizer: see estimateTokens.
  estimate(text: string): number;
  close(): Promise<void>;
}

export interface TokenCounterOptions {
  // Requests with fewer characters (UTF-16 units) than this are counted on the calling thread: a few
  // milliseconds at most, less than the trip to the worker.
  readonly workerThreshold?: number;
  // The worker thread stops after this long without work (ms).
  readonly workerIdleMs?: number;
  // The idle timer; tests pass their own to fire it by hand.
  readonly schedule?: (run: () => void, ms: number) => () => void;
}

export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : estimateFromBytes(Buffer.byteLength(text, "utf8"));
}

export function estimateFromBytes(bytes: number): number {
  return Math.ceil(bytes / 3);
}

type Tokenizer = typeof import("gpt-tokenizer/encoding/o200k_base");
let tokenizer: Promise<Tokenizer> | undefined;

// Special tokens' text (<|endoftext|>) sent by a client is counted as the text it is, not refused.
const asText = { disallowedSpecial: new Set<string>() };

// The exact count on this thread, loading the tokenizer on first use. For small texts only: the time it
// takes grows with the text, and faster than the text for long runs without spaces.
export async function countTokensExactly(text: string): Promise<number> {
  if (text.length === 0) return 0;
  tokenizer ??= import("gpt-tokenizer/encoding/o200k_base");
  return (await tokenizer).countTokens(text, asText);
}

// Tokens as the offline (simulated) providers report them: exact while the texts together are small, the
// estimate beyond, so an offline answer never holds the event loop to count a large prompt on this thread,
// and its cost does not grow with a conversation's window. The figures are simulated usage, not a bill.
const simulatedExactChars = 4 * 1024;
export async function simulatedTokenCount(texts: readonly string[]): Promise<number> {
  let chars = 0;
  for (const text of texts) chars += text.length;
  if (chars > simulatedExactChars) {
    let estimate = 0;
    for (const text of texts) estimate += estimateTokens(text);
    return estimate;
  }
  let total = 0;
  for (const text of texts) total += await countTokensExactly(text);
  return total;
}

async function countHere(texts: readonly string[], stopAbove: number): Promise<CountOutcome> {
  tokenizer ??= import("gpt-tokenizer/encoding/o200k_base");
  const { countTokens } = await tokenizer;
  const countSlice = (slice: string) => countTokens(slice, asText);
  return (
    overLimitBySample(texts, stopAbove, countSlice) ?? new BoundedCount(texts, stopAbove, countSlice).finish()
  );
}

export function tokenizerLoaded(): boolean {
  return tokenizer !== undefined;
}

const realTimer = (run: () => void, ms: number) => {
  const timer = setTimeout(run, ms);
  timer.unref();
  return () => clearTimeout(timer);
};

export function createTokenCounter(options: TokenCounterOptions = {}): TokenCounter & {
  readonly workerRunning: boolean;
} {
  const threshold = options.workerThreshold ?? 4 * 1024;
  const idleMs = options.workerIdleMs ?? 60_000;
  const schedule = options.schedule ?? realTimer;
  let worker: Worker | undefined;
  let cancelIdle: (() => void) | undefined;
  let nextId = 0;
  const pending = new Map<number, { resolve: (n: CountOutcome) => void; reject: (e: Error) => void }>();

  const failAll = (error: Error) => {
    for (const job of pending.values()) job.reject(error);
    pending.clear();
    worker = undefined;
  };

  const stopWorker = async () => {
    cancelIdle?.();
    cancelIdle = undefined;
    const current = worker;
    worker = undefined;
    if (current) await current.terminate();
  };

  const getWorker = (): Worker => {
    cancelIdle?.();
    cancelIdle = undefined;
    if (worker) return worker;
    // The worker is the same module compiled or not: run from TypeScript sources or from the build.
    const file = import.meta.url.endsWith(".ts") ? "./token-count-worker.ts" : "./token-count-worker.js";
    const created = new Worker(new URL(file, import.meta.url));
    created.unref();
    created.on("message", ({ id, ...outcome }: { id: number } & CountOutcome) => {
      pending.get(id)?.resolve(outcome);
      pending.delete(id);
      if (pending.size === 0) cancelIdle ??= schedule(() => void stopWorker(), idleMs);
    });
    created.on("error", failAll);
    created.on("exit", () => {
      if (worker === created) failAll(new Error("token counting worker stopped"));
    });
    worker = created;
    return created;
  };

  const countUpTo = (texts: readonly string[], stopAbove: number): Promise<CountOutcome> => {
    let chars = 0;
    for (const text of texts) chars += text.length;
    if (chars < threshold) return countHere(texts, stopAbove);
    const id = nextId++;
    return new Promise<CountOutcome>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      const job: CountJob = { id, texts, stopAbove };
      getWorker().postMessage(job);
    });
  };

  return {
    get workerRunning() {
      return worker !== undefined;
    },
    countUpTo,
    async count(text) {
      return (await countUpTo([text], Number.POSITIVE_INFINITY)).tokens;
    },
    estimate: estimateTokens,
    close: stopWorker,
  };
}
