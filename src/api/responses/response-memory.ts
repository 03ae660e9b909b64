import { LRUCache } from "lru-cache";
import type { ChatMessage } from "../../providers/chat-provider.ts";
import type { ItemLookup } from "./responses-request.ts";

export interface ResponseMemoryLimits {
  // What one client may keep (open mode is one client): past either, its own oldest responses go.
  readonly maxMegabytesPerClient: number;
  readonly maxStoredPerClient: number;
  readonly ttlMs?: number;
}

// Stored responses (store: true, OpenAI's default), so a client can continue with previous_response_id or
// refer to an earlier output item by id, as the Vercel AI SDK does. Kept in this process's memory, bounded
// in size and age: a short-lived convenience, not a history (sessions are that). Each client has its own
// quota: one storing many large responses evicts only its own, never another client's.
export class ResponseMemory {
  readonly #limits: ResponseMemoryLimits;
  // By client key id ("" in open mode). Client keys are configured, so this holds at most one per key.
  readonly #clients = new Map<string, ClientStore>();

  constructor(limits: ResponseMemoryLimits = { maxMegabytesPerClient: 32, maxStoredPerClient: 1_000 }) {
    this.#limits = limits;
  }

  // What one client (its key's id; none in open mode) stored: no client sees another's responses.
  of(clientId: string | undefined): ClientResponses {
    const owner = clientId ?? "";
    // Made on the first store, so that reading what an unknown client stored allocates nothing.
    const stored = () => this.#clients.get(owner);
    return {
      remember: (responseId, conversation, items) => {
        let store = stored();
        if (!store) {
          store = new ClientStore(this.#limits);
          this.#clients.set(owner, store);
        }
        store.remember(responseId, conversation, items);
      },
      conversation: (responseId) => stored()?.conversations.get(responseId),
      item: (id) => stored()?.items.get(id),
    };
  }
}

// One client's stored conversations and output items, each bounded by the client's quota.
class ClientStore {
  readonly conversations: LRUCache<string, readonly ChatMessage[]>;
  readonly items: LRUCache<string, ChatMessage>;

  constructor(limits: ResponseMemoryLimits) {
    const maxSize = Math.max(1, Math.floor(limits.maxMegabytesPerClient * 1024 * 1024));
    const ttl = limits.ttlMs ?? 60 * 60 * 1000;
    this.conversations = new LRUCache<string, readonly ChatMessage[]>({
      max: limits.maxStoredPerClient,
      maxSize,
      ttl,
      sizeCalculation: sizeOf,
    });
    // Output items are parts of the responses above: a quarter of the quota, a few per response.
    this.items = new LRUCache<string, ChatMessage>({
      max: limits.maxStoredPerClient * 4,
      maxSize: Math.max(1, Math.floor(maxSize / 4)),
      ttl,
      sizeCalculation: sizeOf,
    });
  }

  remember(
    responseId: string,
    conversation: readonly ChatMessage[],
    items: ReadonlyMap<string, ChatMessage>,
  ): void {
    this.conversations.set(responseId, conversation);
    for (const [id, message] of items) this.items.set(id, message);
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
