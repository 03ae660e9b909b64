import type { Redis } from "ioredis";
import type { Logger } from "pino";

// A JSON message channel over Redis pub/sub: what one process publishes, every subscribed process receives
// (itself included), so all of them act on the same stream of messages.
export class RedisChannel<Message> {
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #name: string;
  readonly #handlers = new Set<(message: Message) => void>();
  readonly #ready: Promise<unknown>;

  constructor(options: { publisher: Redis; subscriber: Redis; name: string; logger?: Logger | undefined }) {
    this.#publisher = options.publisher;
    this.#subscriber = options.subscriber;
    this.#name = options.name;
    this.#ready = this.#subscriber.subscribe(this.#name);
    this.#subscriber.on("message", (channel: string, text: string) => {
      if (channel !== this.#name) return;
      let message: Message;
      try {
        message = JSON.parse(text) as Message;
      } catch (error) {
        options.logger?.warn({ err: error, channel }, "ignored a malformed message");
        return;
      }
      for (const handler of this.#handlers) handler(message);
    });
  }

  // Resolves once this process is subscribed, so nothing published after it is missed.
  ready(): Promise<unknown> {
    return this.#ready;
  }

  async publish(message: Message): Promise<void> {
    await this.#publisher.publish(this.#name, JSON.stringify(message));
  }

  onMessage(handler: (message: Message) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }
}
