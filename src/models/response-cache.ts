import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { ChatRequest, ProviderName } from "../providers/chat-provider.ts";

export interface CachedAnswer {
  readonly content: string;
  readonly model: string;
  readonly provider: ProviderName;
  readonly finishReason: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  // What producing the answer cost, so a hit can report what it saved.
  readonly costUsd: number;
}

export interface ResponseCacheSettings {
  readonly ttlSeconds: number;
  readonly maxEntries: number;
  readonly maxMegabytes: number;
}

// Answers to identical model calls, kept for a limited time: in this process, or in Redis when replicas
// share them.
export interface ResponseCache {
  get(key: string): Promise<CachedAnswer | undefined>;
  set(key: string, answer: CachedAnswer): void;
}

// Everything that shapes the answer: the model, the messages and the generation parameters; and whose it
// is. `client` is the id of the client key (a digest, never the key): with client keys on, each client has
// its own answers, so one cannot learn what another asked by sending the same request and getting a hit.
export function cacheKeyOf(request: ChatRequest, client?: string): string {
  const shape = {
    client,
    model: request.model,
    purpose: request.purpose,
    messages: request.messages,
    temperature: request.temperature,
    maxTokens: request.maxTokens,
    responseFormat: request.responseFormat,
    tools: request.tools,
    toolChoice: request.toolChoice,
    stop: request.stop,
    reasoning: request.reasoning,
    upstreamParams: request.upstreamParams,
  };
  return createHash("sha256").update(JSON.stringify(shape)).digest("base64url");
}

// The in-process cache, bounded by count and by size.
export class MemoryResponseCache implements ResponseCache {
  readonly #entries: LRUCache<string, CachedAnswer>;

  constructor(settings: ResponseCacheSettings) {
    this.#entries = new LRUCache<string, CachedAnswer>({
      max: settings.maxEntries,
      maxSize: Math.max(1, Math.floor(settings.maxMegabytes * 1024 * 1024)),
      // UTF-16 code units, about the bytes the strings occupy.
      sizeCalculation: (answer) => (answer.content.length + answer.model.length) * 2 + 64,
      ttl: settings.ttlSeconds * 1000,
    });
  }

  async get(key: string): Promise<CachedAnswer | undefined> {
    return this.#entries.get(key);
  }

  set(key: string, answer: CachedAnswer): void {
    this.#entries.set(key, answer);
  }
}
