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
  truncated,
  type UpstreamGuard,
} from "../resilience/upstream-guard.ts";
import type { CallRecorder, UpstreamCall } from "../store/upstream-call.ts";
import { spendOf, wastedSpend, worstCaseUsd } from "./call-pricing.ts";
import { chatRequest, moreRoom } from "./chat-request.ts";
import { checkDeploymentProviders, type Deployment, deploymentsOf, weightedOrder } from "./deployments.ts";
import {
  type Candidate,
  isAccountWide,
  type RunEvent,
  runWithFallbacks,
  worthFallingBack,
} from "./fallback-runner.ts";
import type { CostCeiling, ModelCatalog, ResolvedRole } from "./model-catalog.ts";
import type { Pricing } from "./pricing.ts";
import { tokenCounts } from "./prompt-cache-pricing.ts";
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
  // Draws the order a role's deployments are tried in (by weight); [0, 1).
  readonly random?: () => number;
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
  summarize: "low",
  shadow: "low",
  judge: "low",
  speculative: "high",
};

// One deployment a role call may try: the model, the provider that serves it, and its own figures.
interface Target extends Candidate {
  // The configured provider name, which keys the deployment's circuit, rate-limit window and slots.
  readonly providerName: string;
  readonly provider: ChatProvider;
  readonly maxOutputTokens: number;
  readonly contextWindow: number;
  // Its price (undefined: only the upstream's reported cost prices it) and the most one try may cost.
  readonly pricing: Pricing | undefined;
  readonly ceiling: CostCeiling;
  // Not one of the role's deployments: one of its fallbacks.
  readonly fallback: boolean;
  // Another deployment of the role comes after this one: a reached rate limit or a failed try moves on
  // to it at once rather than waiting or retrying here.
  readonly failFast: boolean;
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
  readonly #random: () => number;

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
    this.#random = options.random ?? Math.random;
    checkDeploymentProviders(this.#catalog.roles(), this.#providers.names());
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
          (done) => spendOf(target.pricing, done),
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
        (event) => (event.type === "done" ? spendOf(target.pricing, event.result) : undefined),
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
    // Providers whose account refused the call (a bad key, no credit): their other deployments would be
    // refused the same, another provider's would not.
    const refused = new Set<string>();
    const remaining = (after: Target) =>
      plan.targets.slice(plan.targets.indexOf(after) + 1).filter((t) => !refused.has(t.providerName));
    return runWithFallbacks({
      role: resolved.role,
      candidates: (function* () {
        for (const target of plan.targets) if (!refused.has(target.providerName)) yield target;
      })(),
      signal: call.signal,
      goOn: (error, target) => {
        if (!isAccountWide(error) || error.code === "budget_exceeded")
          return worthFallingBack(error, call.signal);
        refused.add(target.providerName);
        return !call.signal?.aborted && remaining(target).length > 0;
      },
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
    const { ceiling } = target;
    return {
      kind: "chat",
      purpose: call.purpose,
      role: resolved.role,
      model: target.model,
      provider: answeredBy(target),
      deployment: target.providerName,
      ...(target.failFast ? { failFast: true } : {}),
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

  // The role's deployments in an order drawn by weight, then its fallbacks, under one deadline: never
  // past the request's.
  #plan(target: string | ResolvedRole, call: RoleCall, scope: CallScope): Plan {
    const resolved = this.#chatRole(target);
    const { definition } = resolved;
    const started = this.#clock.now();
    const deployments = weightedOrder(deploymentsOf(definition), this.#random);
    const fallbacks = definition.fallbacks.map((model) => ({ provider: definition.provider, model }));
    return {
      resolved,
      started,
      deadline: Math.min(
        call.deadline ?? started + this.#guard.resilience.callDeadlineMs,
        scope.deadline ?? Number.POSITIVE_INFINITY,
      ),
      targets: [
        ...deployments.map((deployment, index) =>
          this.#deploymentTarget(resolved, deployment, index < deployments.length - 1),
        ),
        ...fallbacks.map((fallback) => this.#fallbackTarget(resolved, fallback)),
      ],
    };
  }

  // The role's own model is priced and bounded as the catalog has the role now (the upstream's live figures
  // included); another deployment by its own figures, else the role's.
  #deploymentTarget(resolved: ResolvedRole, deployment: Deployment, failFast: boolean): Target {
    const { definition } = resolved;
    const provider = this.#providers.chat(deployment.provider, deployment.model);
    const base = {
      model: deployment.model,
      providerName: deployment.provider,
      provider,
      fallback: false,
      failFast,
    };
    const own = deployment.provider === definition.provider && deployment.model === definition.model;
    if (own && !deployment.pricing && !deployment.contextWindow && !deployment.maxOutputTokens) {
      return {
        ...base,
        maxOutputTokens: definition.maxOutputTokens,
        contextWindow: definition.contextWindow,
        pricing: this.#catalog.pricingOf(deployment.model, resolved),
        ceiling: this.#catalog.ceilingOf(deployment.model, resolved),
      };
    }
    const pricing = deployment.pricing ?? definition.pricing;
    const maxOutputTokens = deployment.maxOutputTokens ?? definition.maxOutputTokens;
    const contextWindow = deployment.contextWindow ?? definition.contextWindow;
    return {
      ...base,
      maxOutputTokens,
      contextWindow,
      pricing,
      ceiling: {
        inputPerMillion: pricing.inputPerMillion,
        outputPerMillion: pricing.outputPerMillion,
        maxOutputTokens,
        contextWindow,
      },
    };
  }

  // A fallback: another model id on the role's provider, priced as the catalog knows that id, held to the
  // role's output limit.
  #fallbackTarget(resolved: ResolvedRole, fallback: { provider: string; model: string }): Target {
    const { definition } = resolved;
    return {
      model: fallback.model,
      providerName: fallback.provider,
      provider: this.#providers.chat(fallback.provider, fallback.model),
      maxOutputTokens: definition.maxOutputTokens,
      contextWindow: definition.contextWindow,
      pricing: this.#catalog.pricingOf(fallback.model, resolved),
      ceiling: this.#catalog.ceilingOf(fallback.model, resolved),
      fallback: true,
      failFast: false,
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
    const fallbackFrom = target.fallback ? resolved.definition.model : undefined;
    return {
      content: result.content,
      role: resolved.role,
      model: result.model,
      provider: answeredBy(target),
      finishReason: result.finishReason,
      usage: { ...tokenCounts(result.usage), costUsd: spendOf(target.pricing, result).costUsd },
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

// The provider an answer names: the deployment's configured provider; offline, the simulation answers
// under every name and says so.
function answeredBy(target: Target): string {
  return target.provider.name === "simulated" ? "simulated" : target.providerName;
}

// A plain call's result as the one event of a stream, so calls and streams share the runner.
async function* single(result: Promise<ChatResult>): AsyncGenerator<ChatStreamEvent> {
  yield { type: "done", result: await result };
}
