import { hostname } from "node:os";

// Names this process (host and process id) in task records, queue workers and shared-state messages.
export function processName(): string {
  return `${hostname()}:${process.pid}`;
}
