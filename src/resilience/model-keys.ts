// The label shared by every model id that is not tracked by name.
export const otherModels = "other";

// Which model ids get their own circuit breaker, rate-limit window and metrics labels. Configured ids (role
// models and fallbacks) always do; a pass-through id a client names (any vendor/model) only once it has
// answered successfully, and only up to `limit` of them. Everything else shares `other`, so made-up ids
// cannot grow these tables without bound.
export class ModelKeys {
  readonly #configured: ReadonlySet<string>;
  readonly #tracked = new Set<string>();
  readonly #limit: number;

  constructor(configured: Iterable<string>, limit: number) {
    this.#configured = new Set(configured);
    this.#limit = limit;
  }

  keyOf(model: string): string {
    return this.#configured.has(model) || this.#tracked.has(model) ? model : otherModels;
  }

  isConfigured(model: string): boolean {
    return this.#configured.has(model);
  }

  // A model that answered is real: it earns its own key while there is room.
  noteSuccess(model: string): void {
    if (this.#configured.has(model) || this.#tracked.size >= this.#limit) return;
    this.#tracked.add(model);
  }
}
