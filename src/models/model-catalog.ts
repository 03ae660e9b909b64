import { fallbackPrices } from "../config/defaults/models.ts";
import type { AppConfig, ModelRoleDefinition } from "../config/index.ts";
import { OrchestratorError } from "../core/errors.ts";

export type Pricing = ModelRoleDefinition["pricing"];

export interface ResolvedRole {
  // The canonical role, after following an alias; "passthrough" for a model id a client named directly.
  readonly role: string;
  readonly definition: ModelRoleDefinition;
  readonly passthrough?: boolean;
}

// Answers "which model plays this role", following aliases such as research_ai → thinking_ai.
export class ModelCatalog {
  readonly #roles = new Map<string, ModelRoleDefinition>();
  readonly #aliases = new Map<string, string>();

  constructor(models: AppConfig["models"]) {
    for (const [name, entry] of Object.entries(models)) {
      if (typeof entry === "string") this.#aliases.set(name, entry);
      else this.#roles.set(name, entry);
    }
  }

  resolve(name: string): ResolvedRole | undefined {
    const role = this.#aliases.get(name) ?? name;
    const definition = this.#roles.get(role);
    return definition && { role, definition };
  }

  require(name: string): ResolvedRole {
    const resolved = this.resolve(name);
    if (resolved) return resolved;
    throw new OrchestratorError({
      kind: "logical",
      code: "unknown_model_role",
      status: 400,
      message: `'${name}' is not a model role; known roles: ${[...this.#roles.keys(), ...this.#aliases.keys()].join(", ")}`,
    });
  }

  // An upstream model id a client named directly (OpenAI-compatible API): no fallbacks, and priced only
  // when the upstream reports the cost. Ids look like "vendor/model", which no role name does.
  passthrough(modelId: string): ResolvedRole | undefined {
    if (!/^[\w.-]+\/[\w.:@-]+$/.test(modelId)) return undefined;
    return {
      role: "passthrough",
      passthrough: true,
      definition: {
        provider: "openrouter",
        kind: "chat",
        model: modelId,
        description: "model named directly by the client",
        contextWindow: Number.MAX_SAFE_INTEGER,
        maxOutputTokens: Number.MAX_SAFE_INTEGER,
        pricing: { inputPerMillion: 0, outputPerMillion: 0 },
        fallbacks: [],
      },
    };
  }

  // What one model id costs: the role's own price for its own model, else the price of any role whose
  // model it is, else the built-in list price of the default fallbacks. A fallback answer is priced at
  // the fallback's price, never its primary's. Undefined: only the upstream's reported cost can price it.
  pricingOf(model: string, resolved?: ResolvedRole): Pricing | undefined {
    if (resolved && resolved.definition.model === model) return resolved.definition.pricing;
    for (const definition of this.#roles.values()) {
      if (definition.model === model) return definition.pricing;
    }
    return fallbackPrices[model];
  }

  roles(): ReadonlyArray<readonly [string, ModelRoleDefinition]> {
    return [...this.#roles.entries()];
  }

  aliases(): ReadonlyArray<readonly [string, string]> {
    return [...this.#aliases.entries()];
  }
}

// The upstream's own figure when it reports one, otherwise tokens × the configured list price.
export function costOf(
  priced: { readonly pricing: Pricing } | undefined,
  usage: {
    readonly promptTokens: number;
    readonly completionTokens: number;
    readonly reportedCostUsd?: number;
  },
): number {
  if (usage.reportedCostUsd !== undefined) return usage.reportedCostUsd;
  if (!priced) return 0;
  const { inputPerMillion, outputPerMillion } = priced.pricing;
  return (usage.promptTokens * inputPerMillion + usage.completionTokens * outputPerMillion) / 1_000_000;
}
