import { Worker } from "node:worker_threads";

export interface WalCheckpointer {
  // Asks the worker to checkpoint what is left and close; returns at once (closing never waits on it).
  stop(): void;
}

// SQLite's automatic checkpoint runs inside whichever commit crosses the threshold (1000 pages): that
// commit copies the log into the database file and fsyncs it, on the event loop, stalling every request
// for 10 to 30 ms. The service's connection therefore turns automatic checkpoints off, and a worker thread
// with its own connection checkpoints every `intervalMs`. If the worker fails, the connection takes
// automatic checkpoints back, so the log never grows without bound.
export function startWalCheckpointer(
  path: string,
  restoreAutomaticCheckpoints: () => void,
  intervalMs = 200,
): WalCheckpointer {
  const file = import.meta.url.endsWith(".ts") ? "./wal-checkpoint-worker.ts" : "./wal-checkpoint-worker.js";
  const worker = new Worker(new URL(file, import.meta.url), { workerData: { path, intervalMs } });
  let stopping = false;
  const giveBack = (reason: string) => {
    if (stopping) return;
    stopping = true;
    restoreAutomaticCheckpoints();
    void worker.terminate();
    process.emitWarning(`SQLite checkpoints are back on the main thread: ${reason}`);
  };
  worker.on("message", (message: { failed?: string }) => {
    if (message.failed) giveBack(message.failed);
  });
  worker.on("error", (error: unknown) => giveBack(error instanceof Error ? error.message : String(error)));
  worker.on("exit", (code) => {
    if (!stopping) giveBack(`the checkpoint worker exited with code ${code}`);
  });
  // The worker never keeps the process alive: what it has not copied stays in the log, which SQLite
  // reads back at the next open.
  worker.unref();
  return {
    stop: () => {
      if (stopping) return;
      stopping = true;
      worker.postMessage("stop");
    },
  };
}
