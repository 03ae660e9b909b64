import type { Logger } from "pino";
import type { CallPurpose } from "../core/call-purpose.ts";
import type { Clock } from "../core/clock.ts";
import { OrchestratorError } from "../core/errors.ts";
import { currentContext } from "../core/request-context.ts";
import type { ChatProvider, ChatRequest, ChatResult, ChatStreamEvent } from "../providers/chat-provider.ts";
import type { ProviderRegistry } from "../providers/provider-registry.ts";
import { traceCall } from "../resilience/call-span.ts";
import type { Priority } from "../resilience/priority-scheduler.ts";
import type { Resilience } from "../resilience/resilience.ts";
import {
  type Attempt,
  type GuardedCall,
  type Spend,
  truncated,
  type UpstreamGuard,
} from "../resilience/upstream-guard.ts";
import type { CallRecorder, UpstreamCall } from "../store/upstream-call.ts";
import { spendOf, wastedSpend, worstCaseUsd } from "./call-pricing.ts";
import { chatRequest, moreRoom } from "./chat-request.ts";
import { type Candidate, type RunEvent, runWithFallbacks } from "./fallback-runner.ts";
import type { ModelCatalog, ResolvedRole } from "./model-catalog.ts";
import { cacheKeyOf, type ResponseCache } from "./response-cache.ts";
import type { CallScope, RoleCall, RoleCallResult, RoleStreamEvent } from "./role-call.ts";

export { withReasoningRoom } from "./chat-request.ts";
export type { CallScope, RoleCall, RoleCallResult, RoleStreamEvent } from "./role-call.ts";

export interface ModelClientOptions {
  readonly catalog: ModelCatalog;
  // Which implementation serves each provider name; offline, the simulated one stands behind "openrouter".
  readonly providers: ProviderRegistry;
  readonly live: boolean;
  // Every try at an upstream model goes through it, and is recorded in the cost ledger there.
  readonly guard: UpstreamGuard;
  readonly clock: Clock;
  readonly logger?: Logger;
  // Cache hits are recorded in the cost ledger here (they never reach the guard).
  readonly recorder?: CallRecorder;
  // Spending caps, checked before a paid call.
  readonly budget?: { check(): Promise<void> };
  readonly cache?: ResponseCache;
}

const priorityByPurpose: Record<CallPurpose, Priority> = {
  categorize: "high",
  acknowledge: "high",
  answer: "high",
  plan: "medium",
  task: "medium",
  finish: "medium",
  explain_failure: "medium",
  warmup: "low",
  shadow: "low",
  judge: "low",
  speculative: "high",
};

// One model a role call may try, with the provider that serves it and the figures it is held to.
interface Target extends Candidate {
  readonly provider: ChatProvider;
  readonly maxOutputTokens: number;
  readonly contextWindow: number;
  // Not the role's own model: one of its fallbacks.
  readonly fallback: boolean;
}

// What one role call will try, under one deadline.
interface Plan {
  readonly resolved: ResolvedRole;
  readonly started: number;
  readonly deadline: number;
  readonly targets: readonly Target[];
}

// Calls a model by role: resolves the role to its model and fallbacks and runs each model's call through
// the upstream guard (breaker, rate limit, priority slot, timeout, retries), falling back down the
// role's list. Everything above this speaks in roles.
export class ModelClient {
  readonly #catalog: ModelCatalog;
  readonly #providers: ProviderRegistry;
  readonly #live: boolean;
  readonly #guard: UpstreamGuard;
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  readonly #recorder: CallRecorder | undefined;
  readonly #budget: { check(): Promise<void> } | undefined;
  readonly #cache: ResponseCache | undefined;

  constructor(options: ModelClientOptions) {
    this.#catalog = options.catalog;
    this.#providers = options.providers;
    this.#live = options.live;
    this.#guard = options.guard;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#recorder = options.recorder;
    this.#budget = options.budget;
    this.#cache = options.cache;
  }

  get mode(): "live" | "offline" {
    return this.#live ? "live" : "offline";
  }

  get catalog(): ModelCatalog {
    return this.#catalog;
  }

  get resilience(): Resilience {
    return this.#guard.resilience;
  }

  resolve(roleName: string): ResolvedRole {
    return this.#catalog.require(roleName);
  }

  // `target` is a role or alias name, or a resolved role (such as a pass-through model from the catalog).
  // `scope`: what the call takes from the request it serves (by default, the current request's).
  async call(
    target: string | ResolvedRole,
    call: RoleCall,
    scope: CallScope = scopeOfCurrentRequest(),
  ): Promise<RoleCallResult> {
    const plan = this.#plan(target, call, scope);
    const cacheKey = this.#cacheKey(plan.resolved, call, scope);
    const hit = await this.#fromCache(plan.resolved, call, cacheKey, scope);
    if (hit) return hit;
    await this.#budget?.check();
    const events = this.#run(plan, call, (target, guarded, request) =>
      single(
        this.#guard.execute(
          guarded,
          (attempt) => target.provider.complete(request(attempt)),
          (done) => this.#spend(plan.resolved, target, done),
        ),
      ),
    );
    for await (const event of events) {
      if (event.type !== "done") continue;
      const answer = this.#result(plan, event.candidate, event.result);
      this.#toCache(cacheKey, answer);
      return answer;
    }
    // The guard fails a try that ends without an answer, so the runner always ends with one or throws.
    throw truncated({ model: plan.resolved.definition.model, provider: plan.resolved.definition.provider });
  }

  // Streams the answer. Tries are retried and fallbacks used only until the first text arrives:
  // once part of an answer has been sent on, a failure ends the stream with the error.
  async *stream(
    target: string | ResolvedRole,
    call: RoleCall,
    scope: CallScope = scopeOfCurrentRequest(),
  ): AsyncIterable<RoleStreamEvent> {
    const plan = this.#plan(target, call, scope);
    const cacheKey = this.#cacheKey(plan.resolved, call, scope);
    const hit = await this.#fromCache(plan.resolved, call, cacheKey, scope);
    if (hit) {
      yield { type: "delta", text: hit.content, model: hit.model };
      yield { type: "done", result: hit };
      return;
    }
    await this.#budget?.check();
    const events = this.#run(plan, call, (target, guarded, request) =>
      this.#guard.stream(
        guarded,
        (attempt) => target.provider.stream(request(attempt)),
        (event) => (event.type === "done" ? this.#spend(plan.resolved, target, event.result) : undefined),
      ),
    );
    for await (const event of events) {
      if (event.type === "done") {
        const answer = this.#result(plan, event.candidate, event.result);
        this.#toCache(cacheKey, answer);
        yield { type: "done", result: answer };
        return;
      }
      if (event.type === "delta") call.speculation?.noteText(event.text);
      const { candidate, ...rest } = event;
      yield { ...rest, model: candidate.model };
    }
  }

  // The one fallback runner over the plan's targets; `open` makes one guarded try (a call or a stream)
  // with the request `request` builds for each of its attempts.
  #run(
    plan: Plan,
    call: RoleCall,
    open: (
      target: Target,
      guarded: GuardedCall,
      request: (attempt: Attempt) => ChatRequest,
    ) => AsyncIterable<ChatStreamEvent>,
  ): AsyncGenerator<RunEvent<Target>> {
    const { resolved } = plan;
    return runWithFallbacks({
      role: resolved.role,
      candidates: plan.targets,
      signal: call.signal,
      logger: this.#logger,
      open: (target, atLeast) =>
        open(target, this.#guarded(plan, target, call), (attempt) =>
          chatRequest(resolved, call, target, attempt, atLeast),
        ),
      moreRoom: (target, cutOff) => moreRoom(chatRequest(resolved, call, target).maxTokens, cutOff),
    });
  }

  #guarded(plan: Plan, target: Target, call: RoleCall): GuardedCall {
    const { resolved } = plan;
    const ceiling = this.#catalog.ceilingOf(target.model, resolved);
    return {
      kind: "chat",
      purpose: call.purpose,
      role: resolved.role,
      model: target.model,
      provider: target.provider.name,
      priority: call.priority ?? priorityByPurpose[call.purpose],
      deadline: plan.deadline,
      signal: call.signal,
      // Worst case for budget reservations; a model with no known price is reserved at
      // budgets.unknownModel, never at $0.
      worstCaseUsd: worstCaseUsd(ceiling, call.messages, chatRequest(resolved, call, target).maxTokens),
      slot: call.slot,
      fallback: target.fallback,
      input: call.messages,
      speculation: call.speculation?.forCall((receivedChars) =>
        wastedSpend(ceiling, call.messages, receivedChars),
      ),
    };
  }

  #spend(resolved: ResolvedRole, target: Target, result: ChatResult): Spend {
    return spendOf(this.#catalog.pricingOf(target.model, resolved), result);
  }

  // Only calls whose answer is fixed by their input: temperature 0, or a client that asked for caching.
  #cacheKey(resolved: ResolvedRole, call: RoleCall, scope: CallScope): string | undefined {
    if (!this.#cache || call.purpose === "warmup" || call.signal?.aborted) return undefined;
    // Categorizer and judge prompts carry a fresh random boundary each time (core/prompt-fence.ts): their
    // keys never repeat, and storing them would only push answers that can be hit out of the cache.
    if (call.purpose === "categorize" || call.purpose === "judge") return undefined;
    const temperature = call.temperature ?? resolved.definition.temperature;
    if (temperature !== 0 && !scope.preferCache) return undefined;
    const { definition } = resolved;
    return cacheKeyOf(chatRequest(resolved, call, definition), scope.clientId);
  }

  async #fromCache(
    resolved: ResolvedRole,
    call: RoleCall,
    key: string | undefined,
    scope: CallScope,
  ): Promise<RoleCallResult | undefined> {
    if (key === undefined || scope.skipCache) return undefined;
    // A cache that cannot answer (Redis down) is a miss, never a failed call.
    const hit = await this.#cache?.get(key).catch(() => undefined);
    if (!hit) return undefined;
    if (call.purpose === "answer") scope.onCacheHit?.();
    const entry: UpstreamCall = {
      purpose: call.purpose,
      kind: "chat",
      role: resolved.role,
      model: hit.model,
      provider: hit.provider,
      outcome: "cached",
      promptTokens: hit.promptTokens,
      completionTokens: hit.completionTokens,
      latencyMs: 0,
      costUsd: 0,
      costSource: "none",
      savedUsd: hit.costUsd,
    };
    this.#recorder?.record(entry);
    const details = { responseModel: hit.model, finishReason: hit.finishReason, input: call.messages };
    traceCall(currentContext()?.span, entry, { ...details, output: hit.content }, Date.now());
    return {
      content: hit.content,
      role: resolved.role,
      model: hit.model,
      provider: hit.provider,
      finishReason: hit.finishReason,
      usage: { promptTokens: hit.promptTokens, completionTokens: hit.completionTokens, costUsd: 0 },
      latencyMs: 0,
      cached: true,
    };
  }

  // Tool calls are not kept: they ask the client to act, and replaying them is not the same answer.
  #toCache(key: string | undefined, answer: RoleCallResult): void {
    if (key === undefined || answer.toolCalls || answer.finishReason === "length") return;
    this.#cache?.set(key, {
      content: answer.content,
      model: answer.model,
      provider: answer.provider,
      finishReason: answer.finishReason,
      promptTokens: answer.usage.promptTokens,
      completionTokens: answer.usage.completionTokens,
      costUsd: answer.usage.costUsd,
    });
  }

  // The role's model first, then its fallbacks, under one deadline: never past the request's.
  #plan(target: string | ResolvedRole, call: RoleCall, scope: CallScope): Plan {
    const resolved = this.#chatRole(target);
    const { definition } = resolved;
    const provider = this.#providers.chat(definition.provider, definition.model);
    const started = this.#clock.now();
    const figures = { maxOutputTokens: definition.maxOutputTokens, contextWindow: definition.contextWindow };
    return {
      resolved,
      started,
      deadline: Math.min(
        call.deadline ?? started + this.#guard.resilience.callDeadlineMs,
        scope.deadline ?? Number.POSITIVE_INFINITY,
      ),
      targets: [definition.model, ...definition.fallbacks].map((model) => ({
        model,
        provider,
        ...figures,
        fallback: model !== definition.model,
      })),
    };
  }

  #chatRole(target: string | ResolvedRole): ResolvedRole {
    const resolved = typeof target === "string" ? this.#catalog.require(target) : target;
    const { definition, role } = resolved;
    if (definition.kind !== "chat") {
      throw new OrchestratorError({
        kind: "logical",
        code: "not_a_chat_model",
        status: 400,
        model: definition.model,
        message: `role '${role}' makes ${definition.kind === "image" ? "images" : definition.kind === "video" ? "videos" : "embeddings"}; it cannot answer chat messages`,
      });
    }
    return resolved;
  }

  #result(plan: Plan, target: Target, result: ChatResult): RoleCallResult {
    const { resolved } = plan;
    const primary = resolved.definition.model;
    const fallbackFrom = target.model === primary ? undefined : primary;
    return {
      content: result.content,
      role: resolved.role,
      model: result.model,
      provider: target.provider.name,
      finishReason: result.finishReason,
      usage: {
        promptTokens: result.usage.promptTokens,
        completionTokens: result.usage.completionTokens,
        ...(result.usage.reasoningTokens ? { reasoningTokens: result.usage.reasoningTokens } : {}),
        costUsd: this.#spend(resolved, target, result).costUsd,
      },
      latencyMs: this.#clock.now() - plan.started,
      ...(fallbackFrom ? { fallbackFrom } : {}),
      ...(result.toolCalls ? { toolCalls: result.toolCalls } : {}),
      ...(result.logprobs === undefined ? {} : { logprobs: result.logprobs }),
    };
  }
}

// The current request's deadline and cache flags, read once where a call enters the client.
export function scopeOfCurrentRequest(): CallScope {
  const context = currentContext();
  if (!context) return {};
  return {
    deadline: context.deadline,
    preferCache: context.preferCache,
    skipCache: context.skipCache,
    clientId: context.clientId,
    onCacheHit: () => {
      context.cacheHit = true;
    },
  };
}

// A plain call's result as the one event of a stream, so calls and streams share the runner.
async function* single(result: Promise<ChatResult>): AsyncGenerator<ChatStreamEvent> {
  yield { type: "done", result: await result };
}
