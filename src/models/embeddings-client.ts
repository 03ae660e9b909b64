import type { Clock } from "../core/clock.ts";
import { OrchestratorError } from "../core/errors.ts";
import type { ProviderRegistry } from "../providers/provider-registry.ts";
import type { UpstreamGuard } from "../resilience/upstream-guard.ts";
import { costOf, estimatedTokens, type ModelCatalog, type ResolvedRole } from "./model-catalog.ts";

export interface EmbeddingsCallResult {
  readonly vectors: readonly (readonly number[])[];
  readonly role: string;
  readonly model: string;
  readonly promptTokens: number;
  readonly costUsd: number;
}

export interface EmbeddingsCall {
  readonly input: readonly string[];
  readonly dimensions?: number;
  readonly user?: string;
  readonly signal?: AbortSignal;
  // Absolute time (ms) by which the call, retries included, must be over; the configured call deadline
  // from now by default.
  readonly deadline?: number;
}

// Makes embeddings through an embedding role (embedding_ai) or an upstream model id, through the same
// guard as every other upstream call, and prices them at the role's input price unless the upstream
// reports the cost; every call lands in the cost ledger.
export class EmbeddingsClient {
  readonly #catalog: ModelCatalog;
  readonly #providers: ProviderRegistry;
  readonly #guard: UpstreamGuard;
  readonly #clock: Clock;
  readonly #budget: { check(): Promise<void> } | undefined;

  constructor(options: {
    catalog: ModelCatalog;
    providers: ProviderRegistry;
    guard: UpstreamGuard;
    clock: Clock;
    budget?: { check(): Promise<void> };
  }) {
    this.#catalog = options.catalog;
    this.#providers = options.providers;
    this.#guard = options.guard;
    this.#clock = options.clock;
    this.#budget = options.budget;
  }

  // A role or alias whose kind is embedding, or an upstream model id such as openai/text-embedding-3-large.
  resolve(name: string): ResolvedRole | undefined {
    const role = this.#catalog.resolve(name);
    if (role) return role.definition.kind === "embedding" ? role : undefined;
    const passthrough = this.#catalog.passthrough(name);
    return passthrough && { ...passthrough, definition: { ...passthrough.definition, kind: "embedding" } };
  }

  async embed(target: ResolvedRole, call: EmbeddingsCall): Promise<EmbeddingsCallResult> {
    const { role, definition } = target;
    if (definition.kind !== "embedding") {
      throw new OrchestratorError({
        kind: "logical",
        code: "not_an_embedding_model",
        status: 400,
        message: `role '${role}' is not an embedding model`,
      });
    }
    const provider = this.#providers.embeddings(definition.provider, definition.model);
    await this.#budget?.check();
    const priced = target.passthrough ? this.#catalog.pricingOf(definition.model) : definition.pricing;
    const price = (usage: { promptTokens: number; reportedCostUsd?: number }) =>
      costOf(priced ? { pricing: priced } : undefined, { ...usage, completionTokens: 0 });
    // Reserved like a chat call's prompt: its input at the model's input price (budgets.unknownModel's
    // when no list prices it), so parallel embeddings cannot pass a budget together.
    const inputPerMillion =
      priced?.inputPerMillion ?? this.#catalog.ceilingOf(definition.model).inputPerMillion;
    let chars = 0;
    for (const text of call.input) chars += text.length;
    const result = await this.#guard.execute(
      {
        kind: "embeddings",
        purpose: "embeddings",
        role,
        model: definition.model,
        provider: provider.name,
        deployment: definition.provider,
        priority: "high",
        deadline: call.deadline ?? this.#clock.now() + this.#guard.resilience.callDeadlineMs,
        signal: call.signal,
        worstCaseUsd: (estimatedTokens(chars) * inputPerMillion) / 1_000_000,
      },
      ({ signal, timeoutMs }) =>
        provider.embed({
          model: definition.model,
          input: call.input,
          signal,
          timeoutMs,
          ...(call.dimensions === undefined ? {} : { dimensions: call.dimensions }),
          ...(call.user === undefined ? {} : { user: call.user }),
        }),
      (made) => ({
        promptTokens: made.promptTokens,
        completionTokens: 0,
        costUsd: price(made),
        costSource: made.reportedCostUsd === undefined ? (priced ? "price" : "none") : "upstream",
      }),
    );
    return {
      vectors: result.vectors,
      role,
      model: result.model,
      promptTokens: result.promptTokens,
      costUsd: price(result),
    };
  }
}
