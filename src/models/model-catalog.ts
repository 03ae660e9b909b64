import { defaultModels, fallbackPrices } from "../config/defaults/models.ts";
import type { AppConfig, ModelRoleDefinition } from "../config/index.ts";
import { budgetsSchema } from "../config/schema.ts";
import { OrchestratorError } from "../core/errors.ts";
import type { TokenUsage } from "../core/usage.ts";
import type { CatalogStatus, LiveCatalog, ModelNotice } from "./live-catalog.ts";
import type { Pricing } from "./pricing.ts";
import { tokenCostUsd } from "./prompt-cache-pricing.ts";

// What a model no price list knows is assumed to cost at most (budgets.unknownModel).
export interface UnknownModelCeiling {
  readonly inputPerMillion: number;
  readonly outputPerMillion: number;
  readonly maxOutputTokens: number;
}

// The most one call to a model may cost, for budget reservations: its price, the longest answer it gives
// when the call sets no limit, and its context window (prompt and answer together) when known.
export interface CostCeiling {
  readonly inputPerMillion: number;
  readonly outputPerMillion: number;
  readonly maxOutputTokens: number;
  readonly contextWindow: number | undefined;
}

const defaultUnknownModel: UnknownModelCeiling = budgetsSchema.parse({}).unknownModel;

export interface ResolvedRole {
  // The canonical role, after following an alias; "passthrough" for a model id a client named directly.
  readonly role: string;
  readonly definition: ModelRoleDefinition;
  readonly passthrough?: boolean;
}

// Where a model id a client names directly goes: OpenRouter's ids, or a single-key profile's provider.
export interface PassthroughTarget {
  readonly provider: string;
  // The id prefix naming that provider's own models (openai, anthropic, google).
  readonly vendor?: string;
}

// Answers "which model plays this role", following aliases such as research_ai → thinking_ai.
export class ModelCatalog {
  readonly #roles = new Map<string, ModelRoleDefinition>();
  readonly #aliases = new Map<string, string>();
  // Roles whose price or context window the config sets itself: the upstream's list never replaces those.
  readonly #ownFigures = new Set<string>();
  readonly #unknownModel: UnknownModelCeiling;
  readonly #passthrough: PassthroughTarget;
  #live: LiveCatalog | undefined;

  constructor(
    models: AppConfig["models"],
    options: { unknownModel?: UnknownModelCeiling; passthrough?: PassthroughTarget } = {},
  ) {
    this.#unknownModel = options.unknownModel ?? defaultUnknownModel;
    this.#passthrough = options.passthrough ?? { provider: "openrouter" };
    for (const [name, entry] of Object.entries(models)) {
      if (typeof entry === "string") this.#aliases.set(name, entry);
      else {
        this.#roles.set(name, entry);
        if (!isBuiltInFigures(name, entry)) this.#ownFigures.add(name);
      }
    }
  }

  // The upstream's model list: its prices and context windows stand in for the built-in ones.
  attachLive(live: LiveCatalog): void {
    this.#live = live;
  }

  catalogStatus(): CatalogStatus {
    return this.#live?.status() ?? { source: "built-in", reason: "no model list is read" };
  }

  modelNotices(): ModelNotice[] {
    return this.#live?.notices() ?? [];
  }

  // Reads the upstream's model list again now (it is also re-read every catalogRefreshMinutes).
  async refreshLive(): Promise<void> {
    await this.#live?.refresh();
  }

  resolve(name: string): ResolvedRole | undefined {
    const role = this.#aliases.get(name) ?? name;
    const definition = this.#roles.get(role);
    return definition && { role, definition: this.#current(role, definition) };
  }

  // A role's definition with the upstream's current price and window, unless the config set its own.
  #current(role: string, definition: ModelRoleDefinition): ModelRoleDefinition {
    if (this.#ownFigures.has(role) || definition.provider !== "openrouter") return definition;
    const listed = this.#live?.listed(definition.model);
    if (!listed) return definition;
    return {
      ...definition,
      pricing: listed.pricing ? { ...definition.pricing, ...listed.pricing } : definition.pricing,
      contextWindow: listed.contextLength ?? definition.contextWindow,
    };
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
    // On a single-key profile the id goes to the profile's provider, without its vendor prefix when the
    // vendor is that provider's ("openai/gpt-6.1-sol" → gpt-6.1-sol on openai).
    const { provider, vendor } = this.#passthrough;
    const model = vendor && modelId.startsWith(`${vendor}/`) ? modelId.slice(vendor.length + 1) : modelId;
    return {
      role: "passthrough",
      passthrough: true,
      definition: {
        provider,
        kind: "chat",
        model,
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
    if (resolved && !resolved.passthrough && resolved.definition.model === model) {
      return resolved.definition.pricing;
    }
    for (const [role, definition] of this.#roles) {
      if (definition.model === model) return this.#current(role, definition).pricing;
    }
    const listed = this.#live?.listed(model)?.pricing;
    return listed ? { ...listed } : fallbackPrices[model];
  }

  // The worst case of a call to `model`, never $0 for want of a price: a role's own figures for its own
  // model; for any other id (a pass-through model, a fallback) the price as pricingOf finds it and the
  // longest answer the upstream's list gives (its provider's maximum output, else its context window), and
  // budgets.unknownModel for whatever no list knows. A pass-through call is not held to any role's output
  // limit, so a role's maxOutputTokens does not bound it.
  ceilingOf(model: string, resolved?: ResolvedRole): CostCeiling {
    const own = resolved && !resolved.passthrough && resolved.definition.model === model;
    const definition = own ? resolved.definition : this.#definitionOf(model);
    const listed = this.#live?.listed(model);
    const pricing = own ? definition?.pricing : this.pricingOf(model);
    const contextWindow = listed?.contextLength ?? definition?.contextWindow;
    const longest = listed?.maxCompletionTokens ?? contextWindow ?? this.#unknownModel.maxOutputTokens;
    return {
      inputPerMillion: pricing?.inputPerMillion ?? this.#unknownModel.inputPerMillion,
      outputPerMillion: pricing?.outputPerMillion ?? this.#unknownModel.outputPerMillion,
      maxOutputTokens: own && definition ? definition.maxOutputTokens : longest,
      contextWindow,
    };
  }

  #definitionOf(model: string): ModelRoleDefinition | undefined {
    for (const [role, definition] of this.#roles) {
      if (definition.model === model) return this.#current(role, definition);
    }
    return undefined;
  }

  // A model id's price as the config or the built-in table gives it, whatever the upstream lists: what a
  // listed price is checked against (see listed-price.ts).
  builtInPricingOf(model: string): Pricing | undefined {
    for (const definition of this.#roles.values()) {
      if (definition.model === model) return definition.pricing;
    }
    return fallbackPrices[model];
  }

  // What the upstream's list says a model can do (tools, structured outputs, images in), when it lists it.
  capabilitiesOf(
    model: string,
  ):
    | { readonly supportedParameters: readonly string[]; readonly inputModalities: readonly string[] }
    | undefined {
    const listed = this.#live?.listed(model);
    return (
      listed && {
        supportedParameters: listed.supportedParameters,
        inputModalities: listed.inputModalities ?? [],
      }
    );
  }

  roles(): ReadonlyArray<readonly [string, ModelRoleDefinition]> {
    return [...this.#roles.entries()].map(([role, definition]) => [role, this.#current(role, definition)]);
  }

  // Every OpenRouter model id the config names (role models and fallbacks), with the roles using it.
  openRouterModels(): Map<string, string[]> {
    const models = new Map<string, string[]>();
    for (const [role, definition] of this.#roles) {
      if (definition.provider !== "openrouter") continue;
      for (const model of [definition.model, ...definition.fallbacks]) {
        models.set(model, [...(models.get(model) ?? []), role]);
      }
    }
    return models;
  }

  aliases(): ReadonlyArray<readonly [string, string]> {
    return [...this.#aliases.entries()];
  }
}

// Tokens in `chars` characters of text, as reservations count them (about 4 characters a token).
export function estimatedTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

// The upstream's own figure when it reports one, otherwise tokens × the list price (prompt-cache reads
// and writes at the cache prices, see prompt-cache-pricing.ts).
export function costOf(
  priced: { readonly pricing: Pricing } | undefined,
  usage: TokenUsage & { readonly reportedCostUsd?: number },
): number {
  if (usage.reportedCostUsd !== undefined) return usage.reportedCostUsd;
  if (!priced) return 0;
  return tokenCostUsd(priced.pricing, usage);
}

// A built-in role whose price and context window are still the built-in ones.
function isBuiltInFigures(role: string, definition: ModelRoleDefinition): boolean {
  const builtIn = (defaultModels as Record<string, unknown>)[role];
  if (typeof builtIn !== "object" || builtIn === null) return false;
  const { pricing, contextWindow, model } = builtIn as {
    pricing: Record<string, number>;
    contextWindow?: number;
    model: string;
  };
  const samePricing = JSON.stringify(definition.pricing) === JSON.stringify(pricing);
  return (
    model === definition.model &&
    samePricing &&
    (contextWindow ?? definition.contextWindow) === definition.contextWindow
  );
}
