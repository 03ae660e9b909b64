import { EventSourceParserStream } from "eventsource-parser/stream";
import { CliError, exitCodes } from "./cli-error.ts";

export interface ApiClientOptions {
  readonly baseUrl: string;
  readonly apiKey?: string | undefined;
}

export interface ServerEvent {
  readonly event: string | undefined;
  readonly data: string;
}

// A thin client for the service's HTTP API: JSON in and out, server-sent events, and errors turned into
// messages and exit codes.
export class ApiClient {
  readonly #baseUrl: string;
  readonly #headers: Record<string, string>;

  constructor(options: ApiClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#headers = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
  }

  async get<T>(path: string): Promise<T> {
    return (await this.#json(await this.#send("GET", path))) as T;
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    return (await this.#json(await this.#send("POST", path, body))) as T;
  }

  // Sends the request and yields its server-sent events as they arrive.
  async *events(method: "GET" | "POST", path: string, body?: unknown): AsyncGenerator<ServerEvent> {
    const response = await this.#send(method, path, body, "text/event-stream");
    if (!response.ok) await this.#json(response);
    if (!response.body) return;
    const stream = response.body
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new EventSourceParserStream());
    for await (const message of stream) yield { event: message.event, data: message.data };
  }

  async #send(method: string, path: string, body?: unknown, accept = "application/json"): Promise<Response> {
    const url = `${this.#baseUrl}${path}`;
    try {
      return await fetch(url, {
        method,
        headers: {
          ...this.#headers,
          accept,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      const reason = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach the orchestrator at ${this.#baseUrl}: ${reason?.code ?? reason?.message ?? (error as Error).message} (is it running? use --url)`,
        exitCodes.unreachable,
      );
    }
  }

  async #json(response: Response): Promise<unknown> {
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (response.ok) return parsed;
    const error = (parsed as { error?: { message?: string; code?: string } } | undefined)?.error;
    const detail = error?.message ?? (text.slice(0, 200) || response.statusText);
    throw new CliError(
      `the orchestrator answered ${response.status}${error?.code ? ` (${error.code})` : ""}: ${detail}`,
      exitCodes.failed,
    );
  }
}
