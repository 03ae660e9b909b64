import type { Clock } from "../core/clock.ts";
import { OrchestratorError } from "../core/errors.ts";
import type {
  CallPurpose,
  ChatMessage,
  ChatProvider,
  ChatResult,
  ChatStreamEvent,
  ProviderName,
} from "../providers/chat-provider.ts";
import { costOf, type ModelCatalog, type ResolvedRole } from "./model-catalog.ts";

export interface RoleCall {
  readonly messages: readonly ChatMessage[];
  readonly purpose: CallPurpose;
  readonly temperature?: number;
  readonly maxTokens?: number;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

export interface RoleUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costUsd: number;
}

export interface RoleCallResult {
  readonly content: string;
  readonly role: string;
  readonly model: string;
  readonly provider: ProviderName;
  readonly finishReason: string;
  readonly usage: RoleUsage;
  readonly latencyMs: number;
}

export type RoleStreamEvent =
  | { readonly type: "delta"; readonly text: string }
  | { readonly type: "done"; readonly result: RoleCallResult };

export interface ModelClientOptions {
  readonly catalog: ModelCatalog;
  // Absent when no OpenRouter key is configured: chat roles then answer through the simulated provider.
  readonly openrouter?: ChatProvider | undefined;
  readonly simulated: ChatProvider;
  readonly clock: Clock;
}

// Calls a model by role: resolves the role to a model and provider, applies the role's defaults,
// and prices the call. Everything above this speaks in roles, never in providers.
export class ModelClient {
  readonly #catalog: ModelCatalog;
  readonly #openrouter: ChatProvider | undefined;
  readonly #simulated: ChatProvider;
  readonly #clock: Clock;

  constructor(options: ModelClientOptions) {
    this.#catalog = options.catalog;
    this.#openrouter = options.openrouter;
    this.#simulated = options.simulated;
    this.#clock = options.clock;
  }

  get mode(): "live" | "offline" {
    return this.#openrouter ? "live" : "offline";
  }

  get catalog(): ModelCatalog {
    return this.#catalog;
  }

  resolve(roleName: string): ResolvedRole {
    return this.#catalog.require(roleName);
  }

  async call(roleName: string, call: RoleCall): Promise<RoleCallResult> {
    const { resolved, provider } = this.#target(roleName);
    const started = this.#clock.now();
    const result = await provider.complete(this.#request(resolved, call));
    return this.#result(resolved, provider, result, started);
  }

  async *stream(roleName: string, call: RoleCall): AsyncIterable<RoleStreamEvent> {
    const { resolved, provider } = this.#target(roleName);
    const started = this.#clock.now();
    for await (const event of provider.stream(
      this.#request(resolved, call),
    ) as AsyncIterable<ChatStreamEvent>) {
      if (event.type === "delta") yield event;
      else yield { type: "done", result: this.#result(resolved, provider, event.result, started) };
    }
  }

  #target(roleName: string): { resolved: ResolvedRole; provider: ChatProvider } {
    const resolved = this.#catalog.require(roleName);
    const { definition, role } = resolved;
    if (definition.kind !== "chat") {
      throw new OrchestratorError({
        kind: "logical",
        code: "not_a_chat_model",
        status: 400,
        model: definition.model,
        message: `role '${role}' generates ${definition.kind === "image" ? "images" : "videos"}; it cannot answer chat messages`,
      });
    }
    if (definition.provider !== "openrouter") {
      throw new OrchestratorError({
        kind: "persistent",
        code: "unsupported_provider",
        status: 500,
        model: definition.model,
        message: `role '${role}' uses provider '${definition.provider}', which does not serve chat models`,
      });
    }
    return { resolved, provider: this.#openrouter ?? this.#simulated };
  }

  #request(resolved: ResolvedRole, call: RoleCall) {
    const temperature = call.temperature ?? resolved.definition.temperature;
    return {
      model: resolved.definition.model,
      messages: call.messages,
      maxTokens: Math.min(
        call.maxTokens ?? resolved.definition.maxOutputTokens,
        resolved.definition.maxOutputTokens,
      ),
      purpose: call.purpose,
      ...(temperature === undefined ? {} : { temperature }),
      ...(call.signal ? { signal: call.signal } : {}),
      ...(call.timeoutMs === undefined ? {} : { timeoutMs: call.timeoutMs }),
    };
  }

  #result(
    resolved: ResolvedRole,
    provider: ChatProvider,
    result: ChatResult,
    started: number,
  ): RoleCallResult {
    return {
      content: result.content,
      role: resolved.role,
      model: result.model,
      provider: provider.name,
      finishReason: result.finishReason,
      usage: {
        promptTokens: result.usage.promptTokens,
        completionTokens: result.usage.completionTokens,
        costUsd: costOf(resolved.definition, result.usage),
      },
      latencyMs: this.#clock.now() - started,
    };
  }
}
