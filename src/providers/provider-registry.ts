import { OrchestratorError } from "../core/errors.ts";
import type { ChatProvider } from "./chat-provider.ts";
import type { EmbeddingsProvider } from "./embeddings-provider.ts";
import type { MediaProvider } from "./media-provider.ts";

// What an upstream call asks for; a provider serves one or more of these.
export type UpstreamKind = "chat" | "image" | "video" | "embeddings";

// A provider as configured under one name (the `provider` of a model role): what it serves and how.
export interface ProviderEntry {
  readonly kinds: readonly UpstreamKind[];
  readonly chat?: ChatProvider;
  readonly media?: MediaProvider;
  readonly embeddings?: EmbeddingsProvider;
  // Why this entry cannot serve a kind it does not list (a missing key, say); shown in the error.
  readonly missing?: string;
}

// Providers by configured name. A role names its provider; the registry answers which implementation
// serves that name for that kind of call, or refuses clearly. The composition root decides what stands
// behind each name (the real upstream, the offline simulation, or nothing).
export class ProviderRegistry {
  readonly #entries = new Map<string, ProviderEntry>();

  register(name: string, entry: ProviderEntry): this {
    this.#entries.set(name, entry);
    return this;
  }

  serves(name: string, kind: UpstreamKind): boolean {
    return this.#entries.get(name)?.kinds.includes(kind) ?? false;
  }

  chat(name: string, model: string): ChatProvider {
    const provider = this.#entry(name, "chat", model).chat;
    if (!provider) throw notServed(name, "chat", model, undefined);
    return provider;
  }

  media(name: string, kind: "image" | "video", model: string): MediaProvider {
    const provider = this.#entry(name, kind, model).media;
    if (!provider) throw notServed(name, kind, model, undefined);
    return provider;
  }

  embeddings(name: string, model: string): EmbeddingsProvider {
    const provider = this.#entry(name, "embeddings", model).embeddings;
    if (!provider) throw notServed(name, "embeddings", model, undefined);
    return provider;
  }

  names(): string[] {
    return [...this.#entries.keys()];
  }

  #entry(name: string, kind: UpstreamKind, model: string): ProviderEntry {
    const entry = this.#entries.get(name);
    if (!entry?.kinds.includes(kind)) throw notServed(name, kind, model, entry?.missing);
    return entry;
  }
}

function notServed(name: string, kind: UpstreamKind, model: string, missing: string | undefined) {
  return new OrchestratorError({
    kind: "persistent",
    code: "provider_not_configured",
    status: 502,
    model,
    message: missing
      ? `${model} runs on ${name}, and ${missing}`
      : `provider '${name}' does not serve ${kind} calls (${model})`,
  });
}
