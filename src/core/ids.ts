import { randomUUID } from "node:crypto";

export type IdGenerator = () => string;

export const randomId: IdGenerator = randomUUID;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}
