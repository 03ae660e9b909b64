import { LRUCache } from "lru-cache";
import type { ChatMessage } from "../../providers/chat-provider.ts";
import type { ItemLookup } from "./responses-request.ts";

// Stored responses (store: true, OpenAI's default), so a client can continue with previous_response_id or
// refer to an earlier output item by id, as the Vercel AI SDK does. Kept in this process's memory, bounded
// in size and age: a short-lived convenience, not a history (sessions are that).
export class ResponseMemory {
  readonly #conversations: LRUCache<string, readonly ChatMessage[]>;
  readonly #items: LRUCache<string, ChatMessage>;

  constructor(options: { maxMegabytes?: number; ttlMs?: number } = {}) {
    const maxSize = Math.floor((options.maxMegabytes ?? 32) * 1024 * 1024);
    const ttl = options.ttlMs ?? 60 * 60 * 1000;
    this.#conversations = new LRUCache<string, readonly ChatMessage[]>({
      maxSize,
      ttl,
      sizeCalculation: sizeOf,
    });
    this.#items = new LRUCache<string, ChatMessage>({
      maxSize: Math.floor(maxSize / 4),
      ttl,
      sizeCalculation: sizeOf,
    });
  }

  // What one client (its key's id; none in open mode) stored: no client sees another's responses.
  of(clientId: string | undefined): ClientResponses {
    const key = (id: string) => `${clientId ?? ""}:${id}`;
    return {
      remember: (responseId, conversation, items) => {
        this.#conversations.set(key(responseId), conversation);
        for (const [id, message] of items) this.#items.set(key(id), message);
      },
      conversation: (responseId) => this.#conversations.get(key(responseId)),
      item: (id) => this.#items.get(key(id)),
    };
  }
}

export interface ClientResponses extends ItemLookup {
  // The whole conversation as it stands after the response, and each output item by its id.
  remember(
    responseId: string,
    conversation: readonly ChatMessage[],
    items: ReadonlyMap<string, ChatMessage>,
  ): void;
}

function sizeOf(value: unknown): number {
  return Math.max(1, JSON.stringify(value).length);
}
