import { Worker } from "node:worker_threads";

// Counting tokens exactly takes the o200k_base BPE tables (about 40 MB) and, for large texts, a worker
// thread that loads them again. Most requests are far from any token threshold, so they get an estimate
// from their length, and the tokenizer is loaded only when a count has to be exact (a context near a
// routing threshold); its worker thread stops once it has been idle for a while.
export interface TokenCounter {
  // Exact count with the BPE tokenizer; large texts are counted on a worker thread so one huge message
  // cannot stall every other request on the event loop.
  count(text: string): Promise<number>;
  // No tokenizer: see estimateTokens.
  estimate(text: string): number;
  close(): Promise<void>;
}

export interface TokenCounterOptions {
  // Texts at least this long (in UTF-16 units) go to the worker thread.
  readonly workerThreshold?: number;
  // The worker thread stops after this long without work (ms).
  readonly workerIdleMs?: number;
  // The idle timer; tests pass their own to fire it by hand.
  readonly schedule?: (run: () => void, ms: number) => () => void;
}

// On the high side for most text: English runs about 4 to 5 UTF-8 bytes per token, code and most other
// languages 3 or more, so bytes / 3 rarely undercounts, and budgets built on it err towards sending less.
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(Buffer.byteLength(text, "utf8") / 3);
}

type Tokenizer = typeof import("gpt-tokenizer/encoding/o200k_base");
let tokenizer: Promise<Tokenizer> | undefined;

// The exact count on this thread, loading the tokenizer on first use.
export async function countTokensExactly(text: string): Promise<number> {
  if (text.length === 0) return 0;
  tokenizer ??= import("gpt-tokenizer/encoding/o200k_base");
  return (await tokenizer).countTokens(text);
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
  const threshold = options.workerThreshold ?? 64 * 1024;
  const idleMs = options.workerIdleMs ?? 60_000;
  const schedule = options.schedule ?? realTimer;
  let worker: Worker | undefined;
  let cancelIdle: (() => void) | undefined;
  let nextId = 0;
  const pending = new Map<number, { resolve: (n: number) => void; reject: (e: Error) => void }>();

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
    created.on("message", ({ id, tokens }: { id: number; tokens: number }) => {
      pending.get(id)?.resolve(tokens);
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

  return {
    get workerRunning() {
      return worker !== undefined;
    },
    async count(text) {
      if (text.length < threshold) return countTokensExactly(text);
      const id = nextId++;
      return new Promise<number>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        getWorker().postMessage({ id, text });
      });
    },
    estimate: estimateTokens,
    close: stopWorker,
  };
}
