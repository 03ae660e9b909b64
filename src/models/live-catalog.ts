import type { Logger } from "pino";
import type { Clock } from "../core/clock.ts";
import type { Pricing } from "./model-catalog.ts";

// One model as OpenRouter's GET /models lists it (https://openrouter.ai/docs/api-reference/list-available-models):
// prices per token as decimal strings, the context window, the date after which it is no longer served.
export interface ListedModel {
  readonly id: string;
  readonly pricing: Pick<Pricing, "inputPerMillion" | "outputPerMillion"> | undefined;
  readonly contextLength: number | undefined;
  // The longest answer its provider gives (top_provider.max_completion_tokens), when the list says.
  readonly maxCompletionTokens?: number | undefined;
  readonly expirationDate: string | undefined;
  readonly supportedParameters: readonly string[];
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
      const listed = parseModelList(body);
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

// Tolerant of what it does not use: a model without a readable price or window keeps the built-in one.
export function parseModelList(body: unknown): ListedModel[] {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new Error("the answer has no data array");
  return data.flatMap((raw): ListedModel[] => {
    const entry = raw as {
      id?: unknown;
      pricing?: { prompt?: unknown; completion?: unknown };
      context_length?: unknown;
      top_provider?: { max_completion_tokens?: unknown } | null;
      expiration_date?: unknown;
      supported_parameters?: unknown;
    };
    if (typeof entry.id !== "string" || entry.id === "") return [];
    const input = perMillion(entry.pricing?.prompt);
    const output = perMillion(entry.pricing?.completion);
    return [
      {
        id: entry.id,
        pricing:
          input === undefined || output === undefined
            ? undefined
            : { inputPerMillion: input, outputPerMillion: output },
        contextLength:
          typeof entry.context_length === "number" && entry.context_length > 0
            ? entry.context_length
            : undefined,
        maxCompletionTokens: positiveCount(entry.top_provider?.max_completion_tokens),
        expirationDate:
          typeof entry.expiration_date === "string" && entry.expiration_date
            ? entry.expiration_date
            : undefined,
        supportedParameters: Array.isArray(entry.supported_parameters)
          ? entry.supported_parameters.filter((p): p is string => typeof p === "string")
          : [],
      },
    ];
  });
}

function positiveCount(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.floor(value) : undefined;
}

// "0.0000006" (USD per token) → 0.6 (USD per million tokens); negative (OpenRouter's "variable") is unknown.
function perMillion(value: unknown): number | undefined {
  const perToken = typeof value === "string" ? Number(value) : typeof value === "number" ? value : Number.NaN;
  if (!Number.isFinite(perToken) || perToken < 0) return undefined;
  return Math.round(perToken * 1e6 * 1e6) / 1e6;
}
