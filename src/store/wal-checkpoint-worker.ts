import { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";
import type { CheckpointPacing } from "./wal-checkpointer.ts";

// Runs in a worker thread: moves the write-ahead log's pages into the database file on its own connection,
// so the copy and the fsync that ends it never run on the service's event loop (see wal-checkpointer.ts).
const { path, writes, intervalMs, everyWrites, maxDelayMs } = workerData as CheckpointPacing & {
  path: string;
  // How many statements the service's connection has written, counted by it; then the count this thread
  // saw at its last finished look.
  writes: Int32Array;
};
const database = new DatabaseSync(path);
// Like the service's connection, it waits for a lock held a moment by another connection to the file.
database.exec("PRAGMA busy_timeout = 5000");
// PASSIVE never waits for the service's connection: it copies what no reader still needs and stops.
const checkpoint = database.prepare("PRAGMA wal_checkpoint(PASSIVE)");

// The count starts at zero with the connection, before this thread has started.
let writesAtCheckpoint = 0;
let checkpointedAt = Date.now();
// The log starts over (its frames from the beginning) only at a commit that begins once a checkpoint has
// copied every frame; under steady writes a checkpoint rarely ends between two transactions. So after a
// paced checkpoint the worker checkpoints at every look with new writes until it sees that the log started
// over (fewer frames than at its previous checkpoint), then waits for the pace again. Without this the log
// would grow for as long as the writes go on.
let chasing = false;
let framesAtCheckpoint = 0;

const timer = setInterval(() => {
  const written = Atomics.load(writes, 0);
  look(written);
  Atomics.store(writes, 1, written);
}, intervalMs);

function look(written: number): void {
  // The count wraps around at 2^31; the difference in 32-bit arithmetic stays right.
  const since = (written - writesAtCheckpoint) | 0;
  if (since === 0) return;
  const due = since >= everyWrites || Date.now() - checkpointedAt >= maxDelayMs;
  if (!due && !chasing) return;
  try {
    const { log } = checkpoint.get() as { log: number };
    chasing = log >= framesAtCheckpoint;
    framesAtCheckpoint = log;
    writesAtCheckpoint = written;
    checkpointedAt = Date.now();
  } catch (error) {
    parentPort?.postMessage({ failed: (error as Error).message });
  }
}

parentPort?.on("message", (message: unknown) => {
  if (message !== "stop") return;
  clearInterval(timer);
  // Closing the last connection checkpoints what is left and removes the log.
  database.close();
  parentPort?.close();
});
