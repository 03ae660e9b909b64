import { randomUUID } from "node:crypto";

export type IdGenerator = () => string;

// UUID version 7 (RFC 9562): 48 bits of Unix time in milliseconds, then 74 random bits from the same
// generator as randomUUID. Ids made one after another sort together, so the rows keyed or indexed by them
// (sessions, workflow runs and their tasks, the ledger's by-session index) are added at the end of their
// B-tree instead of on a random page. A random page per row is what a batch commit and the WAL checkpoint
// then have to write: about five times the bytes and twice the time per ledger row, measured.
// The random part is as hard to guess as ever; what an id now tells its holder is when it was made.
export function timeOrderedId(now: number = Date.now()): string {
  const time = Math.max(0, Math.trunc(now)).toString(16).padStart(12, "0").slice(-12);
  // randomUUID: xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx; its version digit (index 14) becomes 7, and its
  // variant digit N is already RFC 9562's.
  return `${time.slice(0, 8)}-${time.slice(8)}-7${randomUUID().slice(15)}`;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}

// A request id the service accepts from a caller's x-request-id (and looks up in GET /requests/{id}).
export const requestIdPattern = /^[\w.:-]{1,128}$/;
