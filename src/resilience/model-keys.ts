// The label shared by every model id that is not tracked by name.
export const otherModels = "other";

// What each deployment (a model id on a provider) is keyed by: its own circuit breaker, rate-limit window and
// concurrency slots. A model id's key is the id itself on the first provider the config names it on (so
// every key written before deployments existed keeps its meaning), and "provider:model" on any other: the
// same id on two providers is two keys ("local:llama3.3:70b" beside "llama3.3:70b"), so one failing
// provider does not open the other's circuit. An id the config does not name is at home on OpenRouter, where
// clients' pass-through ids go.
//
// Which deployments get their own key: configured ones (role models, fallbacks and deployments) always; a
// pass-through id a client names (any vendor/model) only once it has answered successfully, and only up to
// `limit` of them. Everything else shares `other`, so made-up ids cannot grow these tables without bound.
export class ModelKeys {
  readonly #home = new Map<string, string>();
  readonly #configured = new Set<string>();
  readonly #configuredModels = new Set<string>();
  readonly #tracked = new Set<string>();
  readonly #limit: number;

  // `configured`: every configured deployment, in config order.
  constructor(configured: Iterable<{ readonly provider: string; readonly model: string }>, limit: number) {
    for (const { provider, model } of configured) {
      if (!this.#home.has(model)) this.#home.set(model, provider);
      this.#configured.add(this.#keyFor(model, provider));
      this.#configuredModels.add(model);
    }
    this.#limit = limit;
  }

  // `provider` left out: the model's home provider.
  keyOf(model: string, provider?: string): string {
    const key = this.#keyFor(model, provider);
    return this.#configured.has(key) || this.#tracked.has(key) ? key : otherModels;
  }

  // The model label metrics count a call under: its id while its deployment is tracked, else `other`.
  labelOf(model: string, provider?: string): string {
    return this.keyOf(model, provider) === otherModels ? otherModels : model;
  }

  // Whether some configured deployment has this model id.
  isConfigured(model: string): boolean {
    return this.#configuredModels.has(model);
  }

  // A model that answered is real: it earns its own key while there is room.
  noteSuccess(model: string, provider?: string): void {
    const key = this.#keyFor(model, provider);
    if (this.#configured.has(key) || this.#tracked.size >= this.#limit) return;
    this.#tracked.add(key);
  }

  // Offline, the simulation stands in for every provider: its calls are keyed as their home's.
  #keyFor(model: string, provider: string | undefined): string {
    const home = this.#home.get(model) ?? "openrouter";
    return provider === undefined || provider === home || provider === "simulated"
      ? model
      : `${provider}:${model}`;
  }
}
