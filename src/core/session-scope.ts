// A client's session ids are its own: with client keys, a session is stored under the client's key id, so
// two clients choosing the same id get separate sessions and neither can reach the other's. "/" never
// occurs in a client's session id, so the stored id splits back unambiguously. Open mode stores ids as given.

export function storedSessionId(clientId: string | undefined, id: string): string {
  return clientId ? `${clientId}/${id}` : id;
}

export function visibleSessionId(stored: string): string;
export function visibleSessionId(stored: string | null): string | null;
export function visibleSessionId(stored: string | null): string | null {
  if (stored === null) return null;
  const slash = stored.indexOf("/");
  return slash === -1 ? stored : stored.slice(slash + 1);
}
