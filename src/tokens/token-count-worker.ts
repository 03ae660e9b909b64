import { parentPort } from "node:worker_threads";
import { clearMergeCache, countTokens } from "gpt-tokenizer/encoding/o200k_base";
import { BoundedCount, overLimitBySample } from "./bounded-count.ts";

export interface CountJob {
  readonly id: number;
  readonly texts: readonly string[];
  readonly stopAbove: number;
}

// Characters each job counts before the next job's turn: a few milliseconds even for the slowest text, so
// a small count never waits long behind a large one.
const charsPerTurn = 4 * 1024;

// Special tokens' text (<|endoftext|>) sent by a client is counted as the text it is, not refused.
const asText = { disallowedSpecial: new Set<string>() };
const countSlice = (slice: string) => countTokens(slice, asText);

// The jobs in progress, taking turns.
const jobs: { readonly id: number; readonly count: BoundedCount }[] = [];

function turn(): void {
  const job = jobs.shift();
  if (job) {
    const outcome = job.count.step(charsPerTurn);
    if (outcome) {
      parentPort?.postMessage({ id: job.id, ...outcome });
      // The tokenizer's cache keeps slices of every text it saw, and with them the texts: let a job's go.
      clearMergeCache();
    } else jobs.push(job);
  }
  // Between turns, so jobs posted meanwhile join the rotation.
  if (jobs.length > 0) setImmediate(turn);
}

parentPort?.on("message", ({ id, texts, stopAbove }: CountJob) => {
  const sampled = overLimitBySample(texts, stopAbove, countSlice);
  if (sampled) {
    parentPort?.postMessage({ id, ...sampled });
    clearMergeCache();
    return;
  }
  jobs.push({ id, count: new BoundedCount(texts, stopAbove, countSlice) });
  if (jobs.length === 1) setImmediate(turn);
});
