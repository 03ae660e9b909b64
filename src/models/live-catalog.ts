import type { Logger } from "pino";
import { z } from "zod";
import type { Clock } from "../core/clock.ts";
import { cachePriceProblem, type TokenPrices, vetListedPrice } from "./listed-price.ts";
import type { Pricing } from "./pricing.ts";

// Bounds on one listed entry: ids as long as any model id may be, windows no model comes near.
const maxListedIdChars = 256;
const maxContextLength = 100_000_000;
const maxPriceWarnings = 1_000;

// One model as OpenRouter's GET /models lists it (https://openrouter.ai/docs/api-reference/list-available-models):
// prices per token as decimal strings, the context window, the date after which it is no longer served.
export interface ListedModel {
  readonly id: string;
  readonly pricing:
    | Pick<Pricing, "inputPerMillion" | "outputPerMillion" | "cacheReadPerMillion" | "cacheWritePerMillion">
    | undefined;
  readonly contextLength: number | undefined;
  // The longest answer its provider gives (top_provider.max_completion_tokens), when the list says.
  readonly maxCompletionTokens?: number | undefined;
  readonly expirationDate: string | undefined;
  readonly supportedParameters: readonly string[];
  // What the model takes in (architecture.input_modalities: "text", "image", "file", …); empty when unlisted.
  readonly inputModalities?: readonly string[];
}

// A configured model the upstream no longer lists, or lists with an end date.
export interface ModelNotice {
  readonly model: string;
  readonly roles: readonly string[];
  readonly status: "not_listed" | "expiring";
  readonly expirationDate?: string;
}

export interface CatalogStatus {
  readonly source: "openrouter" | "built-in";
  readonly fetchedAt?: string;
  // Why the built-in table is in use (offline, or the fetch failed).
  readonly reason?: string;
  readonly models?: number;
}

export interface LiveCatalogOptions {
  // Fetches GET /models; absent offline.
  readonly fetchModels: ((signal: AbortSignal) => Promise<unknown>) | undefined;
  // Configured OpenRouter model ids, each with the roles that use it (as primary or fallback).
  readonly configured: ReadonlyMap<string, readonly string[]>;
  readonly refreshMs: number;
  readonly clock: Clock;
  readonly logger?: Logger | undefined;
  readonly timeoutMs?: number;
  // The configured or built-in price of a model id: a listed price far from it is not believed.
  readonly builtInPricing?: (model: string) => TokenPrices | undefined;
  // Runs `task` every `ms` and returns how to stop it; a timer that never keeps the process alive by default.
  readonly every?: (task: () => void, ms: number) => () => void;
}

const unrefInterval = (task: () => void, ms: number) => {
  const timer = setInterval(task, ms);
  timer.unref();
  return () => clearInterval(timer);
};

// The upstream's own model list, read at start-up and then periodically: current prices and context
// windows, and which configured models are gone or going. When it cannot be read, the built-in table
// stands and the status says why; a failed refresh keeps the last good list.
export class LiveCatalog {
  readonly #options: LiveCatalogOptions;
  #listed: ReadonlyMap<string, ListedModel> | undefined;
  #status: CatalogStatus;
  #stopTimer: (() => void) | undefined;
  #warned = new Set<string>();
  #refusedPrices = new Set<string>();

  constructor(options: LiveCatalogOptions) {
    this.#options = options;
    this.#status = options.fetchModels
      ? { source: "built-in", reason: "the model list has not been read yet" }
      : { source: "built-in", reason: "offline: no OpenRouter key, so the built-in prices are used" };
  }

  // Reads the list now, then every refreshMs (0: only now).
  async start(): Promise<void> {
    await this.refresh();
    if (this.#options.fetchModels && this.#options.refreshMs > 0 && !this.#stopTimer) {
      const every = this.#options.every ?? unrefInterval;
      this.#stopTimer = every(() => void this.refresh(), this.#options.refreshMs);
    }
  }

  stop(): void {
    this.#stopTimer?.();
    this.#stopTimer = undefined;
  }

  async refresh(): Promise<void> {
    const fetchModels = this.#options.fetchModels;
    if (!fetchModels) return;
    try {
      const body = await fetchModels(AbortSignal.timeout(this.#options.timeoutMs ?? 15_000));
      const listed = parseModelList(body, {
        ...(this.#options.builtInPricing ? { builtInPricing: this.#options.builtInPricing } : {}),
        onRefusedPrice: (model, reason) => this.#warnAboutPrice(model, reason),
      });
      this.#listed = new Map(listed.map((model) => [model.id, model]));
      this.#status = { source: "openrouter", fetchedAt: this.#options.clock.isoNow(), models: listed.length };
      this.#warnAboutNotices();
    } catch (error) {
      const reason = `the model list could not be read (${(error as Error).message}); ${
        this.#listed ? "the last list read stays in use" : "the built-in prices are used"
      }`;
      this.#status = this.#listed ? { ...this.#status, reason } : { source: "built-in", reason };
      this.#options.logger?.warn({ reason }, "model catalog not refreshed");
    }
  }

  status(): CatalogStatus {
    return this.#status;
  }

  listed(model: string): ListedModel | undefined {
    return this.#listed?.get(model);
  }

  // Configured models the upstream no longer lists, or has given an end date; empty until a list was read.
  notices(): ModelNotice[] {
    const listed = this.#listed;
    if (!listed) return [];
    const notices: ModelNotice[] = [];
    for (const [model, roles] of this.#options.configured) {
      const entry = listed.get(model);
      if (!entry) notices.push({ model, roles, status: "not_listed" });
      else if (entry.expirationDate) {
        notices.push({ model, roles, status: "expiring", expirationDate: entry.expirationDate });
      }
    }
    return notices;
  }

  // Once per model id (a refresh every few minutes would otherwise repeat it), and for a bounded number of ids.
  #warnAboutPrice(model: string, reason: string): void {
    if (this.#refusedPrices.has(model) || this.#refusedPrices.size >= maxPriceWarnings) return;
    this.#refusedPrices.add(model);
    this.#options.logger?.warn(
      { model, reason },
      `the upstream's listed price for ${model} is not believed (${reason}); its built-in price stays in use`,
    );
  }

  #warnAboutNotices(): void {
    for (const notice of this.notices()) {
      const key = `${notice.model}:${notice.status}:${notice.expirationDate ?? ""}`;
      if (this.#warned.has(key)) continue;
      this.#warned.add(key);
      this.#options.logger?.warn(
        {
          model: notice.model,
          roles: notice.roles,
          status: notice.status,
          expirationDate: notice.expirationDate,
        },
        notice.status === "not_listed"
          ? `configured model ${notice.model} is no longer listed by the upstream; calls to it will fail`
          : `configured model ${notice.model} is to be retired on ${notice.expirationDate}`,
      );
    }
  }
}

// One entry of the list, read tolerantly: a field that is missing or malformed is dropped (the built-in
// figure stands), an entry without a usable id is skipped. Bounded, since the list comes from the network.
const priceField = z
  .union([z.string().max(64), z.number()])
  .optional()
  .catch(undefined);
const listedEntrySchema = z.object({
  id: z.string().min(1).max(maxListedIdChars),
  pricing: z
    .object({
      prompt: priceField,
      completion: priceField,
      // Prompt-cache prices, per token like the others; absent for models that do not cache.
      input_cache_read: priceField,
      input_cache_write: priceField,
    })
    .optional()
    .catch(undefined),
  context_length: z.number().int().positive().max(maxContextLength).optional().catch(undefined),
  // The longest answer the model's provider gives: the worst case a call without max_tokens is reserved at.
  top_provider: z
    .object({
      max_completion_tokens: z.number().int().positive().max(maxContextLength).nullish().catch(undefined),
    })
    .nullish()
    .catch(undefined),
  expiration_date: z.string().min(1).max(64).nullish().catch(undefined),
  supported_parameters: z.array(z.string().max(64)).max(256).optional().catch(undefined),
  architecture: z
    .object({ input_modalities: z.array(z.string().max(32)).max(32).optional().catch(undefined) })
    .nullish()
    .catch(undefined),
});

export interface ParseModelListOptions {
  // The configured or built-in price of a model id, which a listed price may not stray far from.
  readonly builtInPricing?: (model: string) => TokenPrices | undefined;
  // A listed price that was not believed (see listed-price.ts): the model keeps its built-in price.
  readonly onRefusedPrice?: (model: string, reason: string) => void;
}

export function parseModelList(body: unknown, options: ParseModelListOptions = {}): ListedModel[] {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new Error("the answer has no data array");
  return data.flatMap((raw): ListedModel[] => {
    const parsed = listedEntrySchema.safeParse(raw);
    if (!parsed.success) return [];
    const entry = parsed.data;
    return [
      {
        id: entry.id,
        pricing: believedPricing(entry.id, entry.pricing, options),
        contextLength: entry.context_length,
        maxCompletionTokens: entry.top_provider?.max_completion_tokens ?? undefined,
        expirationDate: entry.expiration_date ?? undefined,
        supportedParameters: entry.supported_parameters ?? [],
        inputModalities: entry.architecture?.input_modalities ?? [],
      },
    ];
  });
}

function believedPricing(
  model: string,
  wire:
    | {
        prompt?: string | number | undefined;
        completion?: string | number | undefined;
        input_cache_read?: string | number | undefined;
        input_cache_write?: string | number | undefined;
      }
    | undefined,
  options: ParseModelListOptions,
): ListedModel["pricing"] {
  const input = perMillion(wire?.prompt);
  const output = perMillion(wire?.completion);
  if (input === undefined || output === undefined) return undefined;
  const verdict = vetListedPrice(
    model,
    { inputPerMillion: input, outputPerMillion: output },
    options.builtInPricing?.(model),
  );
  if (!verdict.accepted) {
    options.onRefusedPrice?.(model, verdict.reason);
    return undefined;
  }
  return { ...verdict.pricing, ...believedCachePrices(model, input, wire ?? {}, options) };
}

// The listed cache prices that pass the sanity rules (listed-price.ts); one that does not is dropped and
// the default multiplier of the input price stands in for it.
function believedCachePrices(
  model: string,
  inputPerMillion: number,
  wire: { input_cache_read?: string | number | undefined; input_cache_write?: string | number | undefined },
  options: ParseModelListOptions,
): { cacheReadPerMillion?: number; cacheWritePerMillion?: number } {
  const believed: { cacheReadPerMillion?: number; cacheWritePerMillion?: number } = {};
  for (const [side, raw, key] of [
    ["read", wire.input_cache_read, "cacheReadPerMillion"],
    ["write", wire.input_cache_write, "cacheWritePerMillion"],
  ] as const) {
    if (raw === undefined) continue;
    const value = perMillion(raw);
    const problem =
      value === undefined ? "is not a price" : cachePriceProblem(side, value, inputPerMillion, model);
    if (value !== undefined && problem === undefined) believed[key] = value;
    else {
      options.onRefusedPrice?.(
        model,
        `cache ${side} price ${String(raw)} per token ${problem}; the default multiplier stands in for it`,
      );
    }
  }
  return believed;
}

// "0.0000006" (USD per token) → 0.6 (USD per million tokens). Only plain decimals count ("0x10", "" or
// "Infinity" are not prices); a negative one (OpenRouter's "-1" for a router whose price varies) is unknown.
function perMillion(value: unknown): number | undefined {
  const perToken =
    typeof value === "string" && decimal.test(value)
      ? Number(value)
      : typeof value === "number"
        ? value
        : Number.NaN;
  if (!Number.isFinite(perToken) || perToken < 0) return undefined;
  // Twelve significant digits: 0.0000006 × 1e6 is 0.6, not 0.6000000000000001, and 1e-20 stays above 0.
  return Number((perToken * 1e6).toPrecision(12));
}

const decimal = /^-?\d{1,20}(?:\.\d{1,30})?(?:[eE][-+]?\d{1,3})?$/;
