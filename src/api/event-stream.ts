import type { FastifyReply } from "fastify";
import { overheadHeader, overheadSoFar } from "./request-tracking.ts";

// A server-sent event stream on a hijacked Fastify reply: writes wait for the socket to drain, and a
// comment line every few seconds keeps proxies from closing a quiet stream.
export class EventStream {
  readonly #reply: FastifyReply;
  #keepAlive: NodeJS.Timeout | undefined;

  constructor(reply: FastifyReply, headers: Record<string, string>, keepAliveMs = 15_000) {
    this.#reply = reply;
    reply.hijack();
    reply.raw.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
      "x-request-id": String(reply.request.id),
      [overheadHeader]: overheadSoFar(reply),
      ...headers,
    });
    this.#keepAlive = setInterval(() => void this.#write(": keep-alive\n\n"), keepAliveMs);
    this.#keepAlive.unref();
  }

  get closed(): boolean {
    return this.#reply.raw.destroyed || this.#reply.raw.writableEnded;
  }

  async send(data: unknown): Promise<void> {
    await this.#write(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
  }

  async sendEvent(name: string, data: unknown): Promise<void> {
    await this.#write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  end(): void {
    clearInterval(this.#keepAlive);
    if (!this.closed) this.#reply.raw.end();
  }

  async #write(text: string): Promise<void> {
    if (this.closed) return;
    if (this.#reply.raw.write(text)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.#reply.raw.off("drain", done);
        this.#reply.raw.off("close", done);
        resolve();
      };
      this.#reply.raw.once("drain", done);
      this.#reply.raw.once("close", done);
    });
  }
}
