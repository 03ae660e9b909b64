import { EventSourceParserStream } from "eventsource-parser/stream";

// Talks to the service this page is served by. When the service requires an API key, the user enters it
// once; it is kept in this browser only.
const keyStorage = "orchestrator-api-key";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function apiKey(): string {
  return localStorage.getItem(keyStorage) ?? "";
}

export function setApiKey(key: string): void {
  if (key) localStorage.setItem(keyStorage, key);
  else localStorage.removeItem(keyStorage);
}

function headers(json: boolean): Record<string, string> {
  const key = apiKey();
  return {
    ...(json ? { "content-type": "application/json" } : {}),
    ...(key ? { authorization: `Bearer ${key}` } : {}),
  };
}

async function failure(response: Response): Promise<ApiError> {
  const body = (await response.json().catch(() => undefined)) as
    | { error?: { message?: string; code?: string } }
    | undefined;
  return new ApiError(
    response.status,
    body?.error?.code ?? "http_error",
    body?.error?.message ?? `the service answered ${response.status} ${response.statusText}`,
  );
}

export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: headers(false) });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(path, { method: "POST", headers: headers(true), body: JSON.stringify(body) });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

export interface ServerEvent {
  readonly event: string | undefined;
  readonly data: string;
}

// Server-sent events over fetch (EventSource cannot send an Authorization header).
export async function* streamEvents(
  path: string,
  init: {
    method?: "GET" | "POST";
    body?: unknown;
    signal?: AbortSignal;
    // Sees the response's headers (its x-request-id, say) before the events.
    onHeaders?: (headers: Headers) => void;
  } = {},
): AsyncGenerator<ServerEvent> {
  const response = await fetch(path, {
    method: init.method ?? "GET",
    headers: { ...headers(init.body !== undefined), accept: "text/event-stream" },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    ...(init.signal ? { signal: init.signal } : {}),
  });
  if (!response.ok) throw await failure(response);
  init.onHeaders?.(response.headers);
  if (!response.body) return;
  const stream = response.body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream());
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield { event: value.event, data: value.data };
  }
}
