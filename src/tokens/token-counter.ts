import { Worker } from "node:worker_threads";
import { countTokens } from "gpt-tokenizer/encoding/o200k_base";

// Counts tokens with a real BPE tokenizer (o200k_base). Large texts are counted on a worker thread
// so one huge message cannot stall every other request on the event loop.
export interface TokenCounter {
  count(text: string): Promise<number>;
  close(): Promise<void>;
}

export interface TokenCounterOptions {
  // Texts at least this long (in UTF-16 units) go to the worker thread.
  readonly workerThreshold?: number;
}

export function countTokensNow(text: string): number {
  return text.length === 0 ? 0 : countTokens(text);
}

export function createTokenCounter(options: TokenCounterOptions = {}): TokenCounter {
  const threshold = options.workerThreshold ?? 64 * 1024;
  let worker: Worker | undefined;
  let nextId = 0;
  const pending = new Map<number, { resolve: (n: number) => void; reject: (e: Error) => void }>();

  const failAll = (error: Error) => {
    for (const job of pending.values()) job.reject(error);
    pending.clear();
    worker = undefined;
  };

  const getWorker = (): Worker => {
    if (worker) return worker;
    const created = new Worker(new URL("./token-count-worker.ts", import.meta.url));
    created.unref();
    created.on("message", ({ id, tokens }: { id: number; tokens: number }) => {
      pending.get(id)?.resolve(tokens);
      pending.delete(id);
    });
    created.on("error", failAll);
    created.on("exit", () => failAll(new Error("token counting worker stopped")));
    worker = created;
    return created;
  };

  return {
    async count(text) {
      if (text.length < threshold) return countTokensNow(text);
      const id = nextId++;
      return new Promise<number>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        getWorker().postMessage({ id, text });
      });
    },
    async close() {
      const current = worker;
      worker = undefined;
      if (current) await current.terminate();
    },
  };
}
