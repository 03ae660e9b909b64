import type { CallPurpose } from "../core/call-purpose.ts";
import { OrchestratorError, toOrchestratorError } from "../core/errors.ts";
import { currentContext } from "../core/request-context.ts";
import { type TimedSignal, timedSignal } from "../core/timed-signal.ts";
import type { Usage } from "../core/usage.ts";
import type { ChatMessage } from "../providers/chat-provider.ts";
import type { UpstreamKind } from "../providers/provider-registry.ts";
import type { CallRecorder, CostSource, UpstreamCall } from "../store/upstream-call.ts";
import { type CallDetails, traceCall } from "./call-span.ts";
import { breakerVerdict } from "./failure-classification.ts";
import { HeldSlot } from "./held-slot.ts";
import type { Priority, SlotWaiter } from "./priority-scheduler.ts";
import type { Resilience } from "./resilience.ts";
import { planRetry, type RetryOptions } from "./retry.ts";

// One call to one upstream model, as the guard sees it: the model actually called (a fallback's own id,
// never the role's primary) and everything needed to account for it.
export interface GuardedCall {
  readonly kind: UpstreamKind;
  readonly purpose: CallPurpose | "media" | "embeddings";
  readonly role: string;
  readonly model: string;
  // The provider that answers, as the ledger names it.
  readonly provider: string;
  // The configured provider name the call goes through (the role's or deployment's `provider`), which keys
  // its circuit, rate-limit window and slots with the model; `provider` when unset.
  readonly deployment?: string | undefined;
  readonly priority: Priority;
  // Absolute time (ms) by which every try, wait and retry of this call must be over.
  readonly deadline: number;
  readonly signal?: AbortSignal | undefined;
  // Worst case of what one try may cost (for reservations); undefined when it cannot be known.
  readonly worstCaseUsd?: number | undefined;
  // A slot granted ahead of the call (see `admit`): the first try uses it if it is for the same model;
  // a first try at another model (a fallback) gives it back.
  readonly slot?: HeldSlot | undefined;
  // Set on a call started before its route was known (see SpeculativeCall).
  readonly speculation?: SpeculativeCall | undefined;
  // A fallback of the role's own model (for the trace).
  readonly fallback?: boolean;
  // Another deployment can take the call: a reached rate limit fails the try at once instead of waiting
  // for room, and a failed try is not retried here.
  readonly failFast?: boolean;
  // The prompt, for traces that capture content.
  readonly input?: readonly ChatMessage[] | undefined;
}

// A call started alongside the categorizer for the route the label will most likely pick. Its ledger row is
// held until the label is known: written as it is when the route is confirmed, as speculative waste when it
// is refuted. A refuted call is aborted; what it had cost by then is estimated, and settled against budgets.
export interface SpeculativeCall {
  // The estimated spend of a call the route refuted (and aborted); undefined while it is not refuted.
  wasted(): Spend | undefined;
  // Runs `write` once the route is known, with whether the call turned out speculative waste.
  hold(write: (wasted: boolean) => void): void;
}

// Waits for a slot of a model without a call in flight (see UpstreamGuard.admit).
export interface SlotAdmission {
  granted(slot: HeldSlot): void;
}

// What one try hands the provider: the signal that ends it (caller's cancellation, or the guard's timeout)
// and the time it has left. Providers must stop when the signal aborts; the guard decides what that meant.
export interface Attempt {
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  readonly number: number;
}

// What a successful try used and cost, priced at the called model's own price.
export interface Spend extends Usage {
  readonly costSource: CostSource;
  // What prompt caching saved at the model's prices (negative: cache writes cost more than they saved).
  readonly cacheSavedUsd?: number;
  // For the trace: the model that says it answered, why it stopped, and its text.
  readonly responseModel?: string;
  readonly finishReason?: string;
  readonly output?: string;
}

// How one try ended, as the ledger records it: its spend, or its failure (with the estimated cost of a
// refuted speculative call).
type TryOutcome = { readonly failed: OrchestratorError; readonly wasted?: Spend } | { readonly spend: Spend };

// A plug-in around every try (for instance a budget reservation): `before` runs once the breaker lets the
// try through and may refuse it by throwing; the ticket it returns is settled with the try's spend on
// success, or released on any other way out. The guard guarantees exactly one of the two per ticket.
export interface CallHook {
  before(call: GuardedCall): Promise<HookTicket | undefined>;
}

export interface HookTicket {
  settle(spend: Spend): void;
  release(): void;
}

export interface UpstreamGuardOptions {
  readonly resilience: Resilience;
  readonly now: () => number;
  readonly recorder?: CallRecorder | undefined;
  readonly hooks?: readonly CallHook[];
  readonly onRetry?: (event: {
    call: GuardedCall;
    attempt: number;
    delayMs: number;
    error: OrchestratorError;
  }) => void;
}

// The one way to call an upstream model (chat, stream, image, video). For every try it takes, in order,
// the circuit breaker's permission, each hook's ticket, a rate-limit permit and a priority slot, runs the
// call under a timeout, and gives everything back on every way out — success, failure, timeout, the
// caller's abort while waiting or while running, a consumer that stops reading a stream. Retries with
// backoff live here too, so the breaker can tell a 429 that was retried from one that was final.
export class UpstreamGuard {
  readonly #res: Resilience;
  readonly #now: () => number;
  readonly #recorder: CallRecorder | undefined;
  readonly #hooks: CallHook[];
  readonly #onRetry: UpstreamGuardOptions["onRetry"];

  constructor(options: UpstreamGuardOptions) {
    this.#res = options.resilience;
    this.#now = options.now;
    this.#recorder = options.recorder;
    this.#hooks = [...(options.hooks ?? [])];
    this.#onRetry = options.onRetry;
  }

  get resilience(): Resilience {
    return this.#res;
  }

  addHook(hook: CallHook): void {
    this.#hooks.push(hook);
  }

  // Queues `waiter` for a slot of `model` in the same per-model, by-priority order as calls, holding
  // nothing while it waits (no call, timer or reservation); it is granted a HeldSlot, possibly at once,
  // for the first try of the call it then makes. Returns the ticket that withdraws it while it waits.
  admit(model: string, priority: Priority, waiter: SlotAdmission, provider?: string): AdmissionTicket {
    const ticket = new AdmissionTicket(
      this.#res,
      this.#res.modelKeys.keyOf(model, provider),
      priority,
      waiter,
    );
    this.#res.scheduler.enqueue(ticket.key, priority, ticket);
    return ticket;
  }

  // Runs `run` until it succeeds or retrying cannot help; `spendOf` prices a success.
  async execute<T>(
    call: GuardedCall,
    run: (attempt: Attempt) => Promise<T>,
    spendOf: (result: T) => Spend,
  ): Promise<T> {
    for (let number = 1; ; number++) {
      try {
        return await this.#once(call, number, async (attempt, pass) => {
          const result = await run(attempt);
          pass.succeed(spendOf(result));
          return result;
        });
      } catch (raw) {
        await this.#beforeRetry(call, number, toOrchestratorError(raw));
      }
    }
  }

  // Streams through the guard. Tries are retried only until the first event has been passed on; after
  // that a failure ends the stream with the error. `doneOf` recognises the final event and prices it.
  async *stream<E>(
    call: GuardedCall,
    open: (attempt: Attempt) => AsyncIterable<E>,
    spendOf: (event: E) => Spend | undefined,
  ): AsyncGenerator<E> {
    for (let number = 1; ; number++) {
      let emitted = false;
      try {
        yield* this.#streamOnce(call, number, open, spendOf, () => {
          emitted = true;
        });
        return;
      } catch (raw) {
        const error = toOrchestratorError(raw);
        if (emitted) throw error;
        await this.#beforeRetry(call, number, error);
      }
    }
  }

  async *#streamOnce<E>(
    call: GuardedCall,
    number: number,
    open: (attempt: Attempt) => AsyncIterable<E>,
    spendOf: (event: E) => Spend | undefined,
    onEmit: () => void,
  ): AsyncGenerator<E> {
    const pass = await this.#enter(call, number);
    const upstream = currentContext()?.upstreamTime;
    try {
      const events = open(pass.attempt)[Symbol.asyncIterator]();
      try {
        for (;;) {
          // Only the waits for the next event are upstream time; handling an event is the service's.
          upstream?.enter();
          let next: IteratorResult<E>;
          try {
            next = await events.next();
          } finally {
            upstream?.leave();
          }
          if (next.done) break;
          const spend = spendOf(next.value);
          if (spend) pass.succeed(spend);
          onEmit();
          yield next.value;
        }
      } finally {
        await events.return?.();
      }
      // A stream that ended without its final event is not an answer.
      if (!pass.succeeded) throw truncated(call);
    } catch (raw) {
      throw pass.fail(raw);
    } finally {
      // Also reached when the consumer stops reading early: everything taken is still given back.
      pass.leave();
    }
  }

  async #once<T>(
    call: GuardedCall,
    number: number,
    work: (attempt: Attempt, pass: Pass) => Promise<T>,
  ): Promise<T> {
    const pass = await this.#enter(call, number);
    const upstream = currentContext()?.upstreamTime;
    upstream?.enter();
    try {
      return await work(pass.attempt, pass);
    } catch (raw) {
      throw pass.fail(raw);
    } finally {
      upstream?.leave();
      pass.leave();
    }
  }

  // Waits out the backoff before try number + 1, or rethrows when the error is final.
  async #beforeRetry(call: GuardedCall, number: number, error: OrchestratorError): Promise<void> {
    const delayMs = call.failFast ? undefined : planRetry(error, number, this.#retryOptions(call));
    if (delayMs === undefined) throw error;
    this.#onRetry?.({ call, attempt: number, delayMs, error });
    await this.#res.sleep(delayMs, call.signal);
  }

  #retryOptions(call: GuardedCall): RetryOptions {
    return {
      policy: this.#res.policy,
      sleep: this.#res.sleep,
      random: this.#res.random,
      now: this.#now,
      deadline: call.deadline,
      signal: call.signal,
    };
  }

  // Takes the breaker, hook tickets, rate-limit permit and slot in that order. If any step fails, what was
  // already taken is given back before the error leaves; otherwise the returned pass owns all of it.
  async #enter(call: GuardedCall, number: number): Promise<Pass> {
    // Pass-through ids share one breaker and rate-limit window ("other") until they have earned their own.
    // A call whose deadline has already passed (its request's time is used up) is not sent at all.
    if (call.deadline <= this.#now()) throw deadlinePassed(call);
    const key = keyOfCall(this.#res, call);
    const breaker = this.#res.breakers.for(key);
    const entered = this.#now();
    if (!breaker.tryAcquire()) {
      const error = breaker.openError();
      this.#record(call, entered, { failed: error }, number);
      throw error;
    }
    const tickets: HookTicket[] = [];
    let release: (() => void) | undefined;
    // Waiting for room is bounded by the call's deadline as well as by the caller.
    const waiting = deadlineSignal(call, this.#now());
    try {
      for (const hook of this.#hooks) {
        const ticket = await hook.before(call);
        if (ticket) tickets.push(ticket);
      }
      // With another deployment to go to, a window with no room now is skipped rather than waited for.
      const permit = await this.#res.limiter.acquire(
        key,
        call.failFast ? this.#now() : call.deadline,
        waiting.signal,
      );
      // A slot granted ahead of the call serves its first try at the same model, and no other.
      release = call.slot?.take(key);
      call.slot?.giveBack();
      release ??= await this.#res.scheduler.acquire(key, call.priority, waiting.signal);
      waiting.dispose();
      return new Pass({
        call,
        number,
        breaker,
        tickets,
        permit,
        release,
        now: this.#now,
        requestTimeoutMs: this.#res.requestTimeoutMs,
        willRetry: (error) =>
          !call.failFast && planRetry(error, number, this.#retryOptions(call)) !== undefined,
        answered: () => this.#res.modelKeys.noteSuccess(call.model, call.deployment ?? call.provider),
        record: (started, outcome) => this.#record(call, started, outcome, number),
      });
    } catch (raw) {
      waiting.dispose();
      release?.();
      for (const ticket of tickets) ticket.release();
      breaker.onNeutral();
      if (waiting.expired()) throw deadlinePassed(call);
      throw call.signal?.aborted ? cancelled(call, raw) : toOrchestratorError(raw);
    }
  }

  #record(call: GuardedCall, started: number, outcome: TryOutcome, number: number): void {
    const recorder = this.#recorder;
    const context = currentContext();
    const span = context?.span;
    if (!recorder && !span) return;
    const entry = this.#entry(call, started, outcome);
    // With tracing on, every try is also a span, written when its ledger row is (with the same purpose).
    const details = span && this.#details(call, outcome, number, context.shadow === true);
    const endTime = Date.now();
    const write = (recorded: UpstreamCall) => {
      recorder?.record(recorded);
      if (details) traceCall(span, recorded, details, endTime);
    };
    if (!call.speculation) write(entry);
    else call.speculation.hold((wasted) => write(wasted ? { ...entry, purpose: "speculative" } : entry));
  }

  #details(call: GuardedCall, outcome: TryOutcome, number: number, shadow: boolean): CallDetails {
    const spend = "spend" in outcome ? outcome.spend : undefined;
    return {
      attempt: number,
      fallback: call.fallback === true,
      circuitState: this.#res.breakers.for(keyOfCall(this.#res, call)).snapshot().state,
      responseModel: spend?.responseModel,
      finishReason: spend?.finishReason,
      input: call.input,
      output: spend?.output,
      shadow,
    };
  }

  #entry(call: GuardedCall, started: number, outcome: TryOutcome): UpstreamCall {
    const base = {
      purpose: call.purpose,
      kind: call.kind,
      role: call.role,
      model: call.model,
      provider: call.provider,
      latencyMs: this.#now() - started,
    };
    if ("spend" in outcome) {
      const { promptTokens, completionTokens, reasoningTokens, costUsd, costSource } = outcome.spend;
      const { cacheReadTokens, cacheWriteTokens, cacheSavedUsd } = outcome.spend;
      return {
        ...base,
        outcome: "ok",
        promptTokens,
        completionTokens,
        ...(reasoningTokens ? { reasoningTokens } : {}),
        ...(cacheReadTokens ? { cacheReadTokens } : {}),
        ...(cacheWriteTokens ? { cacheWriteTokens } : {}),
        ...(cacheSavedUsd ? { cacheSavedUsd } : {}),
        costUsd,
        costSource,
      };
    }
    const wasted = outcome.wasted;
    return {
      ...base,
      outcome: outcome.failed.kind,
      errorCode: outcome.failed.code,
      promptTokens: wasted?.promptTokens ?? 0,
      completionTokens: wasted?.completionTokens ?? 0,
      costUsd: wasted?.costUsd ?? 0,
      costSource: wasted?.costSource ?? "none",
    };
  }
}

// One waiter queued through `admit`: the record the scheduler holds while it waits.
export class AdmissionTicket implements SlotWaiter {
  readonly key: string;
  readonly #res: Resilience;
  readonly #priority: Priority;
  readonly #waiter: SlotAdmission;

  constructor(res: Resilience, key: string, priority: Priority, waiter: SlotAdmission) {
    this.#res = res;
    this.key = key;
    this.#priority = priority;
    this.#waiter = waiter;
  }

  granted(release: () => void): void {
    this.#waiter.granted(new HeldSlot(this.key, release));
  }

  // True when it was still waiting; false once granted.
  withdraw(): boolean {
    return this.#res.scheduler.withdraw(this.key, this.#priority, this);
  }
}

interface PassParts {
  readonly call: GuardedCall;
  readonly number: number;
  readonly breaker: ReturnType<Resilience["breakers"]["for"]>;
  readonly tickets: readonly HookTicket[];
  readonly permit: Awaited<ReturnType<Resilience["limiter"]["acquire"]>>;
  readonly release: () => void;
  readonly now: () => number;
  readonly requestTimeoutMs: number;
  readonly willRetry: (error: OrchestratorError) => boolean;
  readonly answered: () => void;
  readonly record: (started: number, outcome: TryOutcome) => void;
}

// Everything one try holds, with the only ways to give it back. `leave` is idempotent and always runs.
class Pass {
  readonly attempt: Attempt;
  #parts: PassParts;
  #started: number;
  #timeout: TimedSignal;
  #spend: Spend | undefined;
  #failure: OrchestratorError | undefined;
  #left = false;

  constructor(parts: PassParts) {
    this.#parts = parts;
    this.#started = parts.now();
    const { call } = parts;
    const timeoutMs = Math.max(1, Math.min(parts.requestTimeoutMs, call.deadline - this.#started));
    this.#timeout = timedSignal(call.signal, timeoutMs, () => upstreamTimeout(call));
    this.attempt = { signal: this.#timeout.signal, timeoutMs, number: parts.number };
  }

  get succeeded(): boolean {
    return this.#spend !== undefined;
  }

  succeed(spend: Spend): void {
    this.#spend ??= spend;
  }

  // Decides what a thrown value means: the guard's own timeout is an upstream timeout whatever the
  // provider made of the abort; the caller's abort is a cancellation.
  fail(raw: unknown): OrchestratorError {
    const { call } = this.#parts;
    let error = toOrchestratorError(raw);
    if (call.signal?.aborted) {
      if (error.code !== "cancelled") error = cancelled(call, raw);
    } else if (this.#timeout.timedOut() && error.code !== "upstream_timeout") {
      error = upstreamTimeout(call, this.attempt.timeoutMs, raw);
    }
    this.#failure ??= error;
    return error;
  }

  leave(): void {
    if (this.#left) return;
    this.#left = true;
    this.#timeout.dispose();
    const { breaker, tickets, permit, release, call, record } = this.#parts;
    release();
    const spend = this.#spend;
    const wasted = spend ? undefined : call.speculation?.wasted();
    if (wasted) {
      // Aborted because its route was refuted: the upstream had started on it, so its estimated cost
      // counts against budgets, and its circuit learns nothing either way.
      breaker.onNeutral();
      for (const ticket of tickets) ticket.settle(wasted);
      record(this.#started, { failed: this.#failure ?? abandoned(call), wasted });
      return;
    }
    if (spend) {
      breaker.onSuccess();
      this.#parts.answered();
      permit.settle(spend.promptTokens + spend.completionTokens);
      for (const ticket of tickets) ticket.settle(spend);
      record(this.#started, { spend });
      return;
    }
    for (const ticket of tickets) ticket.release();
    const failure = this.#failure ?? abandoned(call);
    const verdict = breakerVerdict(failure, {
      callerAborted: call.signal?.aborted === true || failure.code === "abandoned",
      willRetry: this.#parts.willRetry(failure),
    });
    if (verdict === "unhealthy") breaker.onFailure();
    else breaker.onNeutral();
    record(this.#started, { failed: failure });
  }
}

// The deployment's key: its breaker, rate-limit window and slots (see model-keys.ts).
function keyOfCall(res: Resilience, call: GuardedCall): string {
  return res.modelKeys.keyOf(call.model, call.deployment ?? call.provider);
}

function deadlineSignal(call: GuardedCall, now: number) {
  const expiry = timedSignal(call.signal, Math.max(0, call.deadline - now));
  return {
    signal: expiry.signal,
    expired: () => expiry.timedOut(),
    dispose: () => expiry.dispose(),
  };
}

// An attempt that ran out of time: the abort reason while it runs (no limit named), then, once the
// upstream's own error is caught, the error saying which limit it hit.
function upstreamTimeout(call: GuardedCall, timeoutMs?: number, cause?: unknown): OrchestratorError {
  return new OrchestratorError({
    kind: "resource",
    code: "upstream_timeout",
    status: 504,
    retryable: true,
    model: call.model,
    message: `${call.provider} model ${call.model} did not answer ${timeoutMs === undefined ? "in time" : `within ${Math.ceil(timeoutMs / 1000)} s`}`,
    cause,
  });
}

function cancelled(call: GuardedCall, cause: unknown): OrchestratorError {
  return new OrchestratorError({
    kind: "logical",
    code: "cancelled",
    status: 499,
    model: call.model,
    message: `call to ${call.provider} model ${call.model} was cancelled`,
    cause,
  });
}

function abandoned(call: GuardedCall): OrchestratorError {
  return new OrchestratorError({
    kind: "logical",
    code: "abandoned",
    status: 499,
    model: call.model,
    message: `the reader of ${call.model}'s stream stopped before it ended`,
  });
}

function deadlinePassed(call: GuardedCall): OrchestratorError {
  return new OrchestratorError({
    kind: "resource",
    code: "deadline_exceeded",
    status: 504,
    model: call.model,
    message: `the call to ${call.model} could not start before its deadline (errorHandling.callDeadlineMs)`,
  });
}

export function truncated(call: { readonly model: string; readonly provider: string }): OrchestratorError {
  return new OrchestratorError({
    kind: "transient",
    code: "upstream_truncated",
    status: 502,
    model: call.model,
    message: `${call.provider} model ${call.model} ended its stream before the answer was complete`,
  });
}
