import type { Logger } from "pino";
import type { Clock } from "../core/clock.ts";
import { OrchestratorError, toOrchestratorError } from "../core/errors.ts";
import { currentContext } from "../core/request-context.ts";
import type {
  CallPurpose,
  ChatMessage,
  ChatProvider,
  ChatRequest,
  ChatResult,
  ChatStreamEvent,
  GenerationOptions,
  ProviderName,
  ToolCall,
} from "../providers/chat-provider.ts";
import type { Priority } from "../resilience/priority-scheduler.ts";
import type { Resilience } from "../resilience/resilience.ts";
import { planRetry, type RetryOptions, withRetry } from "../resilience/retry.ts";
import type { CallRecorder, UpstreamCall } from "../telemetry/upstream-call.ts";
import { costOf, type ModelCatalog, type ResolvedRole } from "./model-catalog.ts";
import { cacheKeyOf, type ResponseCache } from "./response-cache.ts";

export interface RoleCall extends GenerationOptions {
  readonly messages: readonly ChatMessage[];
  readonly purpose: CallPurpose;
  readonly priority?: Priority;
  readonly signal?: AbortSignal;
  // Absolute time (ms) by which the whole call, retries and fallbacks included, must be over.
  readonly deadline?: number;
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
  // Set when the role's own model failed and a fallback answered.
  readonly fallbackFrom?: string;
  readonly toolCalls?: readonly ToolCall[];
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
  // Absent when no OpenRouter key is configured: chat roles then answer through the simulated provider.
  readonly openrouter?: ChatProvider | undefined;
  readonly simulated: ChatProvider;
  readonly clock: Clock;
  readonly resilience: Resilience;
  readonly logger?: Logger;
  // The cost ledger: every try at an upstream model is recorded there.
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
};

// Codes that mean the whole account is refused: another model behind the same key would fail the same way.
const accountWideFailures = new Set(["upstream_auth_failed", "upstream_payment_required"]);

// Calls a model by role: resolves the role to its model and fallbacks, and runs each try through the
// resilience layer (circuit breaker → rate limit → priority slot → deadline-bound call), retrying
// with backoff and falling back down the role's list. Everything above this speaks in roles.
export class ModelClient {
  readonly #catalog: ModelCatalog;
  readonly #openrouter: ChatProvider | undefined;
  readonly #simulated: ChatProvider;
  readonly #clock: Clock;
  readonly #res: Resilience;
  readonly #logger: Logger | undefined;
  readonly #recorder: CallRecorder | undefined;
  readonly #budget: { check(): Promise<void> } | undefined;
  readonly #cache: ResponseCache | undefined;

  constructor(options: ModelClientOptions) {
    this.#catalog = options.catalog;
    this.#openrouter = options.openrouter;
    this.#simulated = options.simulated;
    this.#clock = options.clock;
    this.#res = options.resilience;
    this.#logger = options.logger;
    this.#recorder = options.recorder;
    this.#budget = options.budget;
    this.#cache = options.cache;
  }

  get mode(): "live" | "offline" {
    return this.#openrouter ? "live" : "offline";
  }

  get catalog(): ModelCatalog {
    return this.#catalog;
  }

  get resilience(): Resilience {
    return this.#res;
  }

  resolve(roleName: string): ResolvedRole {
    return this.#catalog.require(roleName);
  }

  // `target` is a role or alias name, or a resolved role (such as a pass-through model from the catalog).
  async call(target: string | ResolvedRole, call: RoleCall): Promise<RoleCallResult> {
    const { resolved, provider, started, retry, primary, candidates } = this.#plan(target, call);
    const cacheKey = this.#cacheKey(resolved, call);
    const hit = await this.#fromCache(resolved, call, cacheKey);
    if (hit) return hit;
    await this.#budget?.check();
    const failures: OrchestratorError[] = [];
    for (const model of candidates) {
      try {
        const result = await withRetry(
          () => this.#attempt(provider, model, resolved, call, retry.deadline),
          retry,
        );
        const answer = this.#result(
          resolved,
          provider,
          result,
          started,
          model === primary ? undefined : primary,
        );
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
    const { resolved, provider, started, retry, primary, candidates } = this.#plan(target, call);
    const cacheKey = this.#cacheKey(resolved, call);
    const hit = await this.#fromCache(resolved, call, cacheKey);
    if (hit) {
      yield { type: "delta", text: hit.content, model: hit.model };
      yield { type: "done", result: hit };
      return;
    }
    await this.#budget?.check();
    const failures: OrchestratorError[] = [];
    for (const model of candidates) {
      for (let attemptNumber = 1; ; attemptNumber++) {
        let emitted = false;
        try {
          for await (const event of this.#attemptStream(provider, model, resolved, call, retry.deadline)) {
            if (event.type !== "done") {
              emitted = true;
              yield { ...event, model };
            } else {
              const fallbackFrom = model === primary ? undefined : primary;
              const answer = this.#result(resolved, provider, event.result, started, fallbackFrom);
              this.#toCache(cacheKey, answer);
              yield { type: "done", result: answer };
              return;
            }
          }
          return;
        } catch (raw) {
          const error = toOrchestratorError(raw);
          if (emitted) throw error;
          const delayMs = planRetry(error, attemptNumber, retry);
          if (delayMs === undefined) {
            failures.push(error);
            break;
          }
          retry.onRetry?.({ attempt: attemptNumber, delayMs, error });
          await this.#res.sleep(delayMs, call.signal);
        }
      }
      const last = failures.at(-1);
      if (!last || !this.#worthFallingBack(last, call)) break;
    }
    throw allFailed(resolved.role, failures);
  }

  async #attempt(
    provider: ChatProvider,
    model: string,
    resolved: ResolvedRole,
    call: RoleCall,
    deadline: number,
  ): Promise<ChatResult> {
    const guard = await this.#enter(provider, model, resolved, call, deadline);
    try {
      const result = await provider.complete(this.#request(resolved, call, model, deadline));
      guard.succeeded(result);
      return result;
    } catch (error) {
      throw guard.failed(error);
    }
  }

  async *#attemptStream(
    provider: ChatProvider,
    model: string,
    resolved: ResolvedRole,
    call: RoleCall,
    deadline: number,
  ): AsyncIterable<ChatStreamEvent> {
    const guard = await this.#enter(provider, model, resolved, call, deadline);
    let finished = false;
    try {
      for await (const event of provider.stream(this.#request(resolved, call, model, deadline))) {
        if (event.type === "done") {
          guard.succeeded(event.result);
          finished = true;
        }
        yield event;
      }
    } catch (error) {
      finished = true;
      throw guard.failed(error);
    } finally {
      // The consumer stopped reading early: the slot must still be given back.
      if (!finished) guard.abandoned();
    }
  }

  // Passes the breaker, the rate limit and the priority queue, in that order, and returns how to leave;
  // each way out is recorded in the ledger.
  async #enter(
    provider: ChatProvider,
    model: string,
    resolved: ResolvedRole,
    call: RoleCall,
    deadline: number,
  ) {
    const record = (outcome: UpstreamCallOutcome, started: number) =>
      this.#recorder?.record({
        purpose: call.purpose,
        kind: "chat",
        role: resolved.role,
        model,
        provider: provider.name,
        latencyMs: this.#clock.now() - started,
        ...outcome,
      });
    const breaker = this.#res.breakers.for(model);
    if (!breaker.tryAcquire()) {
      const error = breaker.openError();
      record(failedOutcome(error), this.#clock.now());
      throw error;
    }
    let permit: Awaited<ReturnType<Resilience["limiter"]["acquire"]>>;
    let release: () => void;
    try {
      permit = await this.#res.limiter.acquire(model, deadline, call.signal);
      release = await this.#res.scheduler.acquire(
        call.priority ?? priorityByPurpose[call.purpose],
        call.signal,
      );
    } catch (error) {
      breaker.onNeutral();
      throw error;
    }
    const started = this.#clock.now();
    return {
      succeeded: (result: ChatResult) => {
        release();
        breaker.onSuccess();
        permit.settle(result.usage.promptTokens + result.usage.completionTokens);
        record(
          {
            outcome: "ok",
            promptTokens: result.usage.promptTokens,
            completionTokens: result.usage.completionTokens,
            costUsd: costOf(resolved.definition, result.usage),
            costSource: result.usage.reportedCostUsd === undefined ? "price" : "upstream",
          },
          started,
        );
      },
      failed: (raw: unknown): OrchestratorError => {
        release();
        const error = toOrchestratorError(raw);
        if (error.kind === "logical" || call.signal?.aborted) breaker.onNeutral();
        else breaker.onFailure();
        record(failedOutcome(error), started);
        return error;
      },
      abandoned: () => {
        release();
        breaker.onNeutral();
        record({ ...noSpend, outcome: "logical", errorCode: "abandoned" }, started);
      },
    };
  }

  // Only calls whose answer is fixed by their input: temperature 0, or a client that asked for caching.
  #cacheKey(resolved: ResolvedRole, call: RoleCall): string | undefined {
    if (!this.#cache || call.purpose === "warmup" || call.signal?.aborted) return undefined;
    const temperature = call.temperature ?? resolved.definition.temperature;
    if (temperature !== 0 && !currentContext()?.preferCache) return undefined;
    return cacheKeyOf(this.#request(resolved, call, resolved.definition.model, Number.POSITIVE_INFINITY));
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
    this.#recorder?.record({
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
    });
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

  #retryOptions(call: RoleCall, started: number): RetryOptions {
    return {
      policy: this.#res.policy,
      sleep: this.#res.sleep,
      random: this.#res.random,
      now: () => this.#clock.now(),
      deadline: call.deadline ?? started + this.#res.callDeadlineMs,
      signal: call.signal,
      onRetry: ({ attempt, delayMs, error }) =>
        this.#logger?.info(
          { model: error.model, attempt, delayMs, code: error.code },
          "retrying upstream call",
        ),
    };
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
      retry: this.#retryOptions(call, started),
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
        message: `role '${role}' generates ${definition.kind === "image" ? "images" : "videos"}; it cannot answer chat messages`,
      });
    }
    // Chat roles are on OpenRouter (or its offline stand-in): the config check refuses anything else.
    return { resolved, provider: this.#openrouter ?? this.#simulated };
  }

  #request(resolved: ResolvedRole, call: RoleCall, model: string, deadline: number): ChatRequest {
    const { definition } = resolved;
    const temperature = call.temperature ?? definition.temperature;
    // A pass-through model has no configured ceiling: only the caller's own max_tokens is sent.
    const maxTokens = resolved.passthrough
      ? call.maxTokens
      : Math.min(call.maxTokens ?? definition.maxOutputTokens, definition.maxOutputTokens);
    const timeoutMs = Math.max(1, Math.min(this.#res.requestTimeoutMs, deadline - this.#clock.now()));
    return {
      model,
      messages: call.messages,
      purpose: call.purpose,
      timeoutMs,
      ...(maxTokens === undefined ? {} : { maxTokens }),
      ...(temperature === undefined ? {} : { temperature }),
      ...(call.responseFormat === undefined ? {} : { responseFormat: call.responseFormat }),
      ...(call.tools === undefined ? {} : { tools: call.tools }),
      ...(call.toolChoice === undefined ? {} : { toolChoice: call.toolChoice }),
      ...(call.user === undefined ? {} : { user: call.user }),
      ...(call.signal ? { signal: call.signal } : {}),
    };
  }

  #result(
    resolved: ResolvedRole,
    provider: ChatProvider,
    result: ChatResult,
    started: number,
    fallbackFrom: string | undefined,
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
      ...(fallbackFrom ? { fallbackFrom } : {}),
      ...(result.toolCalls ? { toolCalls: result.toolCalls } : {}),
    };
  }
}

type UpstreamCallOutcome = Pick<
  UpstreamCall,
  "outcome" | "errorCode" | "promptTokens" | "completionTokens" | "costUsd" | "costSource"
>;

const noSpend = { promptTokens: 0, completionTokens: 0, costUsd: 0, costSource: "none" } as const;

function failedOutcome(error: OrchestratorError): UpstreamCallOutcome {
  return { ...noSpend, outcome: error.kind, errorCode: error.code };
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
