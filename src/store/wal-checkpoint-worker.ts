import { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";

// Runs in a worker thread: moves the write-ahead log's pages into the database file on its own connection,
// so the copy and the fsync that ends it never run on the service's event loop (see wal-checkpointer.ts).
const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const database = new DatabaseSync(path);
// Like the service's connection, it waits for a lock held a moment by another connection to the file.
database.exec("PRAGMA busy_timeout = 5000");
// PASSIVE never waits for the service's connection: it copies what no reader still needs and stops.
const checkpoint = database.prepare("PRAGMA wal_checkpoint(PASSIVE)");

const timer = setInterval(() => {
  try {
    checkpoint.get();
  } catch (error) {
    parentPort?.postMessage({ failed: (error as Error).message });
  }
}, intervalMs);

parentPort?.on("message", (message: unknown) => {
  if (message !== "stop") return;
  clearInterval(timer);
  // Closing the last connection checkpoints what is left and removes the log.
  database.close();
  parentPort?.close();
});
