import { createParser } from "eventsource-parser";
import { type Dispatcher, Pool } from "undici";

// An upstream answered with an HTTP error status; the body is kept for the reason it gives.
export class UpstreamHttpError extends Error {
  readonly status: number;
  readonly body: string;
  readonly retryAfter: string | null;

  constructor(status: number, body: string, retryAfter: string | null) {
    super(`HTTP ${status}`);
    this.name = "UpstreamHttpError";
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter;
  }

  // The upstream's own words: OpenAI-style `{"error": {"message"}}`, else the start of the body.
  get reason(): string {
    try {
      const message = (JSON.parse(this.body) as { error?: { message?: unknown } }).error?.message;
      if (typeof message === "string" && message) return message;
    } catch {
      // Not JSON: the text itself says what happened.
    }
    return this.body.trim().slice(0, 300) || this.message;
  }
}

// An upstream answered 2xx with something that is not what the protocol promises.
export class UpstreamProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UpstreamProtocolError";
  }
}

// The service could not build or encode a request (a body too deep for JSON.stringify, a bug in a
// mapping): raised before anything is sent, so it says nothing about the upstream's health.
export class RequestBuildError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = "RequestBuildError";
  }
}

// Runs one local step of building an upstream request; whatever it throws is a RequestBuildError.
export function buildRequest<T>(build: () => T): T {
  try {
    return build();
  } catch (error) {
    throw error instanceof RequestBuildError ? error : new RequestBuildError(error);
  }
}

export function encodeJson(body: unknown): string {
  return buildRequest(() => JSON.stringify(body));
}

export interface UpstreamHttpOptions {
  readonly baseUrl: string;
  // Sent with every request (authorization, attribution).
  readonly headers: Readonly<Record<string, string>>;
  // Keep-alive connections to the origin at most; calls past it queue inside the pool.
  readonly connections?: number;
}

// One keep-alive connection pool per upstream origin, shared by every call to it: no client object,
// Request, Headers or web stream per call, and streamed answers read straight off the socket. Timeouts and
// retries are the guard's: this only moves bytes and says what came back.
export class UpstreamHttp {
  readonly #pool: Pool;
  readonly #basePath: string;
  readonly #headers: Record<string, string>;
  readonly #jsonHeaders: Record<string, string>;
  readonly #eventHeaders: Record<string, string>;

  constructor(options: UpstreamHttpOptions) {
    const url = new URL(options.baseUrl);
    this.#basePath = url.pathname.replace(/\/+$/, "");
    this.#headers = { ...options.headers };
    this.#jsonHeaders = { ...this.#headers, "content-type": "application/json", accept: "application/json" };
    this.#eventHeaders = { ...this.#jsonHeaders, accept: "text/event-stream" };
    this.#pool = new Pool(url.origin, {
      connections: options.connections ?? 1024,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      // Deadlines are set per call by the guard (the signal); none here may cut a long answer short.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  async postJson(path: string, body: unknown, signal: AbortSignal): Promise<unknown> {
    const response = await this.#post(path, body, signal, this.#jsonHeaders);
    const text = await response.body.text();
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new UpstreamProtocolError("the answer is not JSON");
    }
  }

  // maxBytes: a body past it is abandoned unread (stream cut, connection dropped) instead of held whole.
  async getJson(path: string, signal: AbortSignal, maxBytes = Number.POSITIVE_INFINITY): Promise<unknown> {
    const response = await this.#pool.request({
      method: "GET",
      path: `${this.#basePath}${path}`,
      headers: this.#jsonHeaders,
      signal,
    });
    const text = await readCapped(response.body, maxBytes);
    if (response.statusCode >= 400) throw new UpstreamHttpError(response.statusCode, text, null);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new UpstreamProtocolError("the answer is not JSON");
    }
  }

  // The data of each server-sent event, in order (comments and keep-alives are skipped).
  async *postEvents(path: string, body: unknown, signal: AbortSignal): AsyncGenerator<string> {
    const response = await this.#post(path, body, signal, this.#eventHeaders);
    const pending: string[] = [];
    const parser = createParser({ onEvent: (event) => pending.push(event.data) });
    const decoder = new TextDecoder();
    for await (const chunk of response.body) {
      parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
      while (pending.length > 0) yield pending.shift() as string;
    }
    parser.feed(decoder.decode());
    while (pending.length > 0) yield pending.shift() as string;
  }

  close(): Promise<void> {
    return this.#pool.close();
  }

  async #post(
    path: string,
    body: unknown,
    signal: AbortSignal,
    headers: Record<string, string>,
  ): Promise<Dispatcher.ResponseData> {
    const encoded = encodeJson(body);
    const response = await this.#pool.request({
      method: "POST",
      path: `${this.#basePath}${path}`,
      headers,
      body: encoded,
      signal,
    });
    if (response.statusCode < 400) return response;
    const text = await response.body.text().catch(() => "");
    const retryAfter = response.headers["retry-after"];
    throw new UpstreamHttpError(
      response.statusCode,
      text,
      typeof retryAfter === "string" ? retryAfter : (retryAfter?.[0] ?? null),
    );
  }
}

async function readCapped(body: Dispatcher.ResponseData["body"], maxBytes: number): Promise<string> {
  if (maxBytes === Number.POSITIVE_INFINITY) return body.text();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      body.destroy();
      throw new UpstreamProtocolError(`the answer is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size).toString("utf8");
}
