import { Worker } from "node:worker_threads";

export interface WalCheckpointer {
  // Counts a statement that wrote to the log (a few atomic instructions): the worker paces its checkpoints
  // by these.
  wrote(): void;
  // Asks the worker to checkpoint what is left and close; returns at once (closing never waits on it).
  stop(): void;
  // The write count the worker saw at its last finished look: once it reaches a count, the worker has
  // decided whether those writes were due a checkpoint (and made it if so).
  seen(): number;
}

// When the worker checkpoints: it looks every `intervalMs`, and checkpoints once `everyWrites` statements
// have written to the log since its last checkpoint, or `maxDelayMs` has passed with at least one.
export interface CheckpointPacing {
  readonly intervalMs: number;
  readonly everyWrites: number;
  readonly maxDelayMs: number;
}

// About SQLite's own threshold (1000 pages) under the service's writes; a power cut costs at most the last
// two seconds of commits (SQLite's own automatic checkpoints set no time bound at all).
export const defaultCheckpointPacing: CheckpointPacing = {
  intervalMs: 200,
  everyWrites: 1000,
  maxDelayMs: 2000,
};

// SQLite's automatic checkpoint runs inside whichever commit crosses the threshold (1000 pages): that
// commit copies the log into the database file and fsyncs it, on the event loop, stalling every request
// for 10 to 30 ms. The service's connection therefore turns automatic checkpoints off, and a worker thread
// with its own connection checkpoints. A completed checkpoint still costs the event loop one fsync: the
// next commit starts the log over from its beginning, and SQLite syncs the log's new header first. On a
// fixed 200 ms timer that was up to five fsyncs a second (about a millisecond each here, more on network
// disks), one in every step of a sequential workflow; paced by the writes the connection counts, it is one
// per thousand writes or two seconds. If the worker fails, the connection takes automatic checkpoints back,
// so the log never grows without bound.
export function startWalCheckpointer(
  path: string,
  restoreAutomaticCheckpoints: () => void,
  pacing: CheckpointPacing = defaultCheckpointPacing,
): WalCheckpointer {
  const file = import.meta.url.endsWith(".ts") ? "./wal-checkpoint-worker.ts" : "./wal-checkpoint-worker.js";
  // [writes counted by the connection, writes the worker saw at its last look]
  const writes = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
  const worker = new Worker(new URL(file, import.meta.url), { workerData: { path, writes, ...pacing } });
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
    wrote: () => {
      Atomics.add(writes, 0, 1);
    },
    stop: () => {
      if (stopping) return;
      stopping = true;
      worker.postMessage("stop");
    },
    seen: () => Atomics.load(writes, 1),
  };
}
