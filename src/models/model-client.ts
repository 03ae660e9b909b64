import type { Logger } from "pino";
import type { CallPurpose } from "../core/call-purpose.ts";
import type { Clock } from "../core/clock.ts";
import { OrchestratorError, toOrchestratorError } from "../core/errors.ts";
import { currentContext } from "../core/request-context.ts";
import { addTokens, type Usage } from "../core/usage.ts";
import {
  type ChatMessage,
  type ChatProvider,
  type ChatRequest,
  type ChatResult,
  type GenerationOptions,
  type ProviderName,
  type ReasoningOptions,
  type ToolCall,
  textOf,
} from "../providers/chat-provider.ts";
import type { ProviderRegistry } from "../providers/provider-registry.ts";
import { traceCall } from "../resilience/call-span.ts";
import type { HeldSlot } from "../resilience/held-slot.ts";
import type { Priority } from "../resilience/priority-scheduler.ts";
import type { Resilience } from "../resilience/resilience.ts";
import type { Attempt, GuardedCall, Spend, UpstreamGuard } from "../resilience/upstream-guard.ts";
import type { CallRecorder, UpstreamCall } from "../store/upstream-call.ts";
import { costOf, estimatedTokens, type ModelCatalog, type ResolvedRole } from "./model-catalog.ts";
import { cacheKeyOf, type ResponseCache } from "./response-cache.ts";
import type { Speculation } from "./speculation.ts";

export interface RoleCall extends GenerationOptions {
  readonly messages: readonly ChatMessage[];
  readonly purpose: CallPurpose;
  readonly priority?: Priority;
  readonly signal?: AbortSignal;
  // Absolute time (ms) by which the whole call, retries and fallbacks included, must be over.
  readonly deadline?: number;
  // A slot of the primary model granted before the call (a queued workflow task): its first try uses it.
  readonly slot?: HeldSlot;
  // Started before the route was known (see speculation.ts).
  readonly speculation?: Speculation;
}

export interface RoleCallResult {
  readonly content: string;
  readonly role: string;
  readonly model: string;
  readonly provider: ProviderName;
  readonly finishReason: string;
  readonly usage: Usage;
  readonly latencyMs: number;
  // Set when the role's own model failed and a fallback answered.
  readonly fallbackFrom?: string;
  readonly toolCalls?: readonly ToolCall[];
  readonly logprobs?: unknown;
  // Answered from the response cache: nothing was sent upstream and nothing was spent.
  readonly cached?: true;
}

// Text and tool-call events name the model that produces them: after a fallback, not the role's own.
export type RoleStreamEvent =
  | { readonly type: "delta"; readonly text: string; readonly model: string }
  | { readonly type: "tool_call_delta"; readonly deltas: readonly unknown[]; readonly model: string }
  | { readonly type: "done"; readonly result: RoleCallResult };

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
  summarize: "low",
  shadow: "low",
  judge: "low",
  speculative: "high",
};

// Codes that mean the whole account is refused: another model behind the same key would fail the same way,
// and a spending cap, which applies to every model.
const accountWideFailures = new Set(["upstream_auth_failed", "upstream_payment_required", "budget_exceeded"]);

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
  async call(target: string | ResolvedRole, call: RoleCall): Promise<RoleCallResult> {
    const { resolved, provider, started, deadline, primary, candidates } = this.#plan(target, call);
    const cacheKey = this.#cacheKey(resolved, call);
    const hit = cacheKey === undefined ? undefined : await this.#fromCache(resolved, call, cacheKey);
    if (hit) return hit;
    await this.#budget?.check();
    const failures: OrchestratorError[] = [];
    for (const model of candidates) {
      try {
        const result = await this.#complete(provider, model, resolved, call, deadline);
        const answer = this.#result(resolved, provider, model, result, started, primary);
        this.#toCache(cacheKey, answer);
        return answer;
      } catch (raw) {
        const error = toOrchestratorError(raw);
        failures.push(error);
        if (!this.#worthFallingBack(error, call)) break;
        this.#logger?.warn(
          { role: resolved.role, model, code: error.code },
          "model failed; trying the next fallback",
        );
      }
    }
    throw allFailed(resolved.role, failures);
  }

  // Streams the answer. Tries are retried and fallbacks used only until the first text arrives:
  // once part of an answer has been sent on, a failure ends the stream with the error.
  async *stream(target: string | ResolvedRole, call: RoleCall): AsyncIterable<RoleStreamEvent> {
    const { resolved, provider, started, deadline, primary, candidates } = this.#plan(target, call);
    const cacheKey = this.#cacheKey(resolved, call);
    const hit = cacheKey === undefined ? undefined : await this.#fromCache(resolved, call, cacheKey);
    if (hit) {
      yield { type: "delta", text: hit.content, model: hit.model };
      yield { type: "done", result: hit };
      return;
    }
    await this.#budget?.check();
    const failures: OrchestratorError[] = [];
    for (const model of candidates) {
      let emitted = false;
      try {
        // A thinking model that spent all its room reasoning ends with no text: asked once more with
        // twice the room (nothing was sent on yet), then it fails rather than answer with nothing.
        let earlier: ChatResult | undefined;
        for (;;) {
          const atLeast = earlier && this.#moreRoom(earlier, resolved, call, model);
          const events = this.#guard.stream(
            this.#guarded(provider, model, resolved, call, deadline),
            (attempt) => provider.stream(this.#request(resolved, call, model, attempt, atLeast)),
            (event) => (event.type === "done" ? this.#spend(model, resolved, event.result) : undefined),
          );
          let cutOff: ChatResult | undefined;
          for await (const event of events) {
            if (event.type !== "done") {
              if (event.type === "delta") call.speculation?.noteText(event.text);
              emitted = true;
              yield { ...event, model };
              continue;
            }
            if (!emitted && emptyCutOff(event.result)) {
              if (earlier) throw emptyAnswer(resolved.role, model, withBothUsages(earlier, event.result));
              cutOff = event.result;
              break;
            }
            const whole = earlier ? withBothUsages(earlier, event.result) : event.result;
            const answer = this.#result(resolved, provider, model, whole, started, primary);
            this.#toCache(cacheKey, answer);
            yield { type: "done", result: answer };
            return;
          }
          if (!cutOff) return;
          this.#logger?.warn(
            { role: resolved.role, model, completionTokens: cutOff.usage.completionTokens },
            "the model used its whole output budget on reasoning; asking again with more room",
          );
          earlier = cutOff;
        }
      } catch (raw) {
        const error = toOrchestratorError(raw);
        if (emitted) throw error;
        failures.push(error);
        if (!this.#worthFallingBack(error, call)) break;
      }
    }
    throw allFailed(resolved.role, failures);
  }

  // One model's answer through the guard. An empty answer cut off by the length limit (a thinking model
  // that spent its room reasoning) is asked once more with twice the room, then fails clearly: a silent
  // empty answer is never returned.
  async #complete(
    provider: ChatProvider,
    model: string,
    resolved: ResolvedRole,
    call: RoleCall,
    deadline: number,
  ): Promise<ChatResult> {
    const run = (atLeast?: number) =>
      this.#guard.execute(
        this.#guarded(provider, model, resolved, call, deadline),
        (attempt) => provider.complete(this.#request(resolved, call, model, attempt, atLeast)),
        (done) => this.#spend(model, resolved, done),
      );
    const first = await run();
    if (!emptyCutOff(first)) return first;
    this.#logger?.warn(
      { role: resolved.role, model, completionTokens: first.usage.completionTokens },
      "the model used its whole output budget on reasoning; asking again with more room",
    );
    const second = await run(this.#moreRoom(first, resolved, call, model));
    const both = withBothUsages(first, second);
    if (emptyCutOff(second)) throw emptyAnswer(resolved.role, model, both);
    return both;
  }

  // Twice the output room the cut-off try had.
  #moreRoom(cutOff: ChatResult, resolved: ResolvedRole, call: RoleCall, model: string): number {
    const sent = this.#request(resolved, call, model).maxTokens ?? cutOff.usage.completionTokens;
    return Math.max(2 * sent, 2 * cutOff.usage.completionTokens, 256);
  }

  #guarded(
    provider: ChatProvider,
    model: string,
    resolved: ResolvedRole,
    call: RoleCall,
    deadline: number,
  ): GuardedCall {
    return {
      kind: "chat",
      purpose: call.purpose,
      role: resolved.role,
      model,
      provider: provider.name,
      priority: call.priority ?? priorityByPurpose[call.purpose],
      deadline,
      signal: call.signal,
      worstCaseUsd: this.#worstCase(model, resolved, call),
      slot: call.slot,
      fallback: model !== resolved.definition.model,
      input: call.messages,
      speculation: call.speculation?.forCall((receivedChars) =>
        this.#wastedSpend(model, resolved, call, receivedChars),
      ),
    };
  }

  // What an aborted speculative try is taken to have cost: its whole prompt (the upstream had read it) and
  // the text that had arrived, at the model's price (budgets.unknownModel's for a model no list prices).
  #wastedSpend(model: string, resolved: ResolvedRole, call: RoleCall, receivedChars: number): Spend {
    const ceiling = this.#catalog.ceilingOf(model, resolved);
    let chars = 0;
    for (const message of call.messages) chars += textOf(message.content).length;
    const promptTokens = estimatedTokens(chars);
    const completionTokens = estimatedTokens(receivedChars);
    return {
      promptTokens,
      completionTokens,
      costUsd:
        (promptTokens * ceiling.inputPerMillion + completionTokens * ceiling.outputPerMillion) / 1_000_000,
      costSource: "estimate",
    };
  }

  // What one try may cost at most, for budget reservations: the prompt (about 4 characters a token) and
  // every output token the call allows, at the called model's price. With no max_tokens (a pass-through
  // model), the longest answer the model gives, within what its context window leaves after the prompt; a
  // model with no known price is reserved at budgets.unknownModel, never at $0.
  #worstCase(model: string, resolved: ResolvedRole, call: RoleCall): number {
    const ceiling = this.#catalog.ceilingOf(model, resolved);
    let chars = 0;
    for (const message of call.messages) chars += textOf(message.content).length;
    const promptTokens = estimatedTokens(chars);
    const allowed = this.#request(resolved, call, model).maxTokens ?? ceiling.maxOutputTokens;
    const room = ceiling.contextWindow === undefined ? allowed : ceiling.contextWindow - promptTokens;
    const outputTokens = Math.max(0, Math.min(allowed, room));
    return (promptTokens * ceiling.inputPerMillion + outputTokens * ceiling.outputPerMillion) / 1_000_000;
  }

  // Priced at the model that answered: a fallback's own price, not its primary's.
  #spend(model: string, resolved: ResolvedRole, result: ChatResult): Spend {
    const pricing = this.#catalog.pricingOf(model, resolved);
    return {
      promptTokens: result.usage.promptTokens,
      completionTokens: result.usage.completionTokens,
      ...(result.usage.reasoningTokens ? { reasoningTokens: result.usage.reasoningTokens } : {}),
      costUsd: costOf(pricing && { pricing }, result.usage),
      costSource: result.usage.reportedCostUsd === undefined ? (pricing ? "price" : "none") : "upstream",
      // References, not copies: read only by a trace that records them.
      responseModel: result.model,
      finishReason: result.finishReason,
      output: result.content,
    };
  }

  // Only calls whose answer is fixed by their input: temperature 0, or a client that asked for caching.
  #cacheKey(resolved: ResolvedRole, call: RoleCall): string | undefined {
    if (!this.#cache || call.purpose === "warmup" || call.signal?.aborted) return undefined;
    // Categorizer and judge prompts carry a fresh random boundary each time (core/prompt-fence.ts): their
    // keys never repeat, and storing them would only push answers that can be hit out of the cache.
    if (call.purpose === "categorize" || call.purpose === "judge") return undefined;
    const context = currentContext();
    const temperature = call.temperature ?? resolved.definition.temperature;
    if (temperature !== 0 && !context?.preferCache) return undefined;
    return cacheKeyOf(this.#request(resolved, call, resolved.definition.model), context?.clientId);
  }

  async #fromCache(
    resolved: ResolvedRole,
    call: RoleCall,
    key: string | undefined,
  ): Promise<RoleCallResult | undefined> {
    const context = currentContext();
    if (key === undefined || context?.skipCache) return undefined;
    // A cache that cannot answer (Redis down) is a miss, never a failed call.
    const hit = await this.#cache?.get(key).catch(() => undefined);
    if (!hit) return undefined;
    if (context && call.purpose === "answer") context.cacheHit = true;
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
    traceCall(context?.span, entry, { ...details, output: hit.content }, Date.now());
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

  #worthFallingBack(error: OrchestratorError, call: RoleCall): boolean {
    if (call.signal?.aborted) return false;
    return error.kind !== "logical" && !accountWideFailures.has(error.code);
  }

  // What one role call will try: the role's model first, then its fallbacks, under one deadline.
  #plan(target: string | ResolvedRole, call: RoleCall) {
    const { resolved, provider } = this.#target(target);
    const started = this.#clock.now();
    const primary = resolved.definition.model;
    return {
      resolved,
      provider,
      started,
      // Never past the deadline of the request the call serves.
      deadline: Math.min(
        call.deadline ?? started + this.#guard.resilience.callDeadlineMs,
        currentContext()?.deadline ?? Number.POSITIVE_INFINITY,
      ),
      primary,
      candidates: [primary, ...resolved.definition.fallbacks],
    };
  }

  #target(target: string | ResolvedRole): { resolved: ResolvedRole; provider: ChatProvider } {
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
    return { resolved, provider: this.#providers.chat(definition.provider, definition.model) };
  }

  // `atLeast`: output room a retry after a cut-off empty answer needs, whatever the role's ceiling.
  #request(
    resolved: ResolvedRole,
    call: RoleCall,
    model: string,
    attempt?: Attempt,
    atLeast?: number,
  ): ChatRequest {
    const { definition } = resolved;
    const temperature = call.temperature ?? definition.temperature;
    const reasoning = call.reasoning ?? definition.reasoning;
    // A pass-through model has no configured ceiling: only the caller's own max_tokens is sent.
    const answerTokens = resolved.passthrough
      ? call.maxTokens
      : Math.min(call.maxTokens ?? definition.maxOutputTokens, definition.maxOutputTokens);
    const sized =
      answerTokens === undefined
        ? undefined
        : withReasoningRoom(answerTokens, reasoning, definition.contextWindow);
    const maxTokens = atLeast === undefined ? sized : Math.max(sized ?? 0, atLeast);
    return {
      model,
      messages: call.messages,
      purpose: call.purpose,
      ...(attempt ? { timeoutMs: attempt.timeoutMs, signal: attempt.signal } : {}),
      ...(reasoning === undefined ? {} : { reasoning }),
      ...(maxTokens === undefined ? {} : { maxTokens }),
      ...(temperature === undefined ? {} : { temperature }),
      ...(call.responseFormat === undefined ? {} : { responseFormat: call.responseFormat }),
      ...(call.tools === undefined ? {} : { tools: call.tools }),
      ...(call.toolChoice === undefined ? {} : { toolChoice: call.toolChoice }),
      ...(call.user === undefined ? {} : { user: call.user }),
      ...(call.stop === undefined ? {} : { stop: call.stop }),
      ...(call.upstreamParams === undefined ? {} : { upstreamParams: call.upstreamParams }),
    };
  }

  #result(
    resolved: ResolvedRole,
    provider: ChatProvider,
    model: string,
    result: ChatResult,
    started: number,
    primary: string,
  ): RoleCallResult {
    const fallbackFrom = model === primary ? undefined : primary;
    return {
      content: result.content,
      role: resolved.role,
      model: result.model,
      provider: provider.name,
      finishReason: result.finishReason,
      usage: {
        promptTokens: result.usage.promptTokens,
        completionTokens: result.usage.completionTokens,
        ...(result.usage.reasoningTokens ? { reasoningTokens: result.usage.reasoningTokens } : {}),
        costUsd: this.#spend(model, resolved, result).costUsd,
      },
      latencyMs: this.#clock.now() - started,
      ...(fallbackFrom ? { fallbackFrom } : {}),
      ...(result.toolCalls ? { toolCalls: result.toolCalls } : {}),
      ...(result.logprobs === undefined ? {} : { logprobs: result.logprobs }),
    };
  }
}

// How much of the output OpenRouter lets each effort spend on reasoning
// (https://openrouter.ai/docs/use-cases/reasoning-tokens): the answer needs the rest.
const reasoningShare: Record<NonNullable<ReasoningOptions["effort"]>, number> = {
  xhigh: 0.95,
  high: 0.8,
  medium: 0.5,
  low: 0.2,
  minimal: 0.1,
  none: 0,
};

// max_tokens covers reasoning and answer together, so a thinking model gets its reasoning on top of the
// answer's room: a token budget is added, an effort's share is grown into. Never past half the context.
export function withReasoningRoom(
  answerTokens: number,
  reasoning: ReasoningOptions | undefined,
  contextWindow: number,
): number {
  if (!reasoning) return answerTokens;
  const total =
    reasoning.maxTokens !== undefined
      ? answerTokens + reasoning.maxTokens
      : // (less a hair, so 1000 / 0.2 is 5000 and not 5001 after floating-point rounding)
        Math.ceil(answerTokens / (1 - reasoningShare[reasoning.effort ?? "medium"]) - 1e-6);
  return Math.max(answerTokens, Math.min(total, Math.floor(contextWindow / 2)));
}

// No text and no tool calls, stopped by the length limit: the room went to reasoning.
function emptyCutOff(result: ChatResult): boolean {
  return result.finishReason === "length" && result.content.trim() === "" && !result.toolCalls?.length;
}

// The later answer, carrying what both tries used (a reported cost only when both reported one).
function withBothUsages(earlier: ChatResult, later: ChatResult): ChatResult {
  const a = earlier.usage;
  const b = later.usage;
  return {
    ...later,
    usage: {
      ...addTokens(a, b),
      ...(a.reportedCostUsd !== undefined && b.reportedCostUsd !== undefined
        ? { reportedCostUsd: a.reportedCostUsd + b.reportedCostUsd }
        : {}),
    },
  };
}

function emptyAnswer(role: string, model: string, result: ChatResult): OrchestratorError {
  const { completionTokens, reasoningTokens } = result.usage;
  return new OrchestratorError({
    kind: "resource",
    code: "empty_answer",
    status: 502,
    model,
    message: `${model} spent its whole output budget on reasoning and gave no answer, even with twice the room (${completionTokens} output tokens${reasoningTokens ? `, ${reasoningTokens} of them reasoning` : ""}); raise models.${role}.maxOutputTokens or lower models.${role}.reasoning`,
  });
}

// One failure is passed on as it is; several (the role's model and its fallbacks) become one error
// that keeps the last one's kind and status and names what each model said.
function allFailed(role: string, failures: readonly OrchestratorError[]): OrchestratorError {
  const [first] = failures;
  const last = failures.at(-1);
  if (!first || !last)
    return new OrchestratorError({ kind: "fatal", code: "no_model", message: `role ${role} has no model` });
  if (failures.length === 1) return first;
  return new OrchestratorError({
    kind: last.kind,
    code: last.code,
    status: last.status,
    retryable: last.retryable,
    model: first.model,
    ...(last.retryAfterMs === undefined ? {} : { retryAfterMs: last.retryAfterMs }),
    message: `every model for role ${role} failed: ${failures.map((f) => f.message).join("; ")}`,
    cause: last,
  });
}
