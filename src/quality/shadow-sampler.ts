import type { Logger } from "pino";
import type { Clock } from "../core/clock.ts";
import { toOrchestratorError } from "../core/errors.ts";
import { currentContext, runWithContextPatch } from "../core/request-context.ts";
import type { ResolvedRole } from "../models/model-catalog.ts";
import type { ModelClient, RoleCallResult } from "../models/model-client.ts";
import type { ChatMessage, GenerationOptions } from "../providers/chat-provider.ts";
import { unusableReason } from "../routing/answer-check.ts";
import type { ShadowSampleEntry, UsageStore } from "../store/usage-store.ts";
import { judgeMessages, parseRuling, verdictOf } from "./judge.ts";

export interface ShadowConfig {
  readonly sampleRate: number;
  readonly maxDailyUsd: number;
  readonly maxConcurrent: number;
}

// A request that has been answered, as the pipeline offers it for sampling.
export interface ShadowOffer {
  readonly category: string | null;
  // Only answers routed by their category are compared: pre-routed ones went where they had to.
  readonly routedByCategory: boolean;
  readonly answer: RoleCallResult;
  // What the routed model was sent, and what the baseline is to be sent (fitted to its context window).
  readonly conversation: readonly ChatMessage[];
  readonly conversationFor: (role: ResolvedRole) => readonly ChatMessage[];
  readonly generation?: GenerationOptions | undefined;
}

// Shadow sampling for the quality figure: a share of the answers routed to a cheaper role is answered again
// by the baseline role and both answers go to a judge, in the background, after the user has the answer.
// Nothing here can delay, change or fail the user's request. Shadow calls go through the same model client
// (budgets, breakers, rate limits, at low priority) and are marked in the ledger. Their spending is the
// deployment's: each call reserves its worst case on the shadow budget (monitoring.shadow.maxDailyUsd) and
// today's, never on the sampled client's or session's, so concurrent samples cannot pass the cap together.
export class ShadowSampler {
  readonly #config: ShadowConfig;
  readonly #models: ModelClient;
  readonly #baseline: ResolvedRole;
  readonly #judge: ResolvedRole;
  readonly #store: UsageStore;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #logger: Logger;
  readonly #onRecorded: ((entry: ShadowSampleEntry) => void) | undefined;
  readonly #running = new Set<Promise<void>>();
  readonly #stop = new AbortController();

  constructor(deps: {
    config: ShadowConfig;
    models: ModelClient;
    baselineRole: string;
    judgeRole: string;
    store: UsageStore;
    clock: Clock;
    random: () => number;
    logger: Logger;
    // Told of each sample once it is stored (routing.quality follows the verdicts as they come).
    onRecorded?: ((entry: ShadowSampleEntry) => void) | undefined;
  }) {
    this.#config = deps.config;
    this.#models = deps.models;
    this.#baseline = deps.models.resolve(deps.baselineRole);
    this.#judge = deps.models.resolve(deps.judgeRole);
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#random = deps.random;
    this.#logger = deps.logger;
    this.#onRecorded = deps.onRecorded;
  }

  // Decides at once (no waiting) whether to sample, and if so starts the work in the background.
  offer(offer: ShadowOffer): void {
    const { sampleRate, maxConcurrent } = this.#config;
    if (sampleRate <= 0 || !this.#eligible(offer) || this.#random() >= sampleRate) return;
    if (this.#running.size >= maxConcurrent) {
      this.#logger.debug("shadow sample skipped: as many are running as monitoring.shadow.maxConcurrent");
      return;
    }
    const context = currentContext();
    const sample = {
      at: this.#clock.isoNow(),
      requestId: context?.requestId ?? null,
      sessionId: context?.sessionId ?? null,
      category: offer.category,
      routedRole: offer.answer.role,
      routedModel: offer.answer.model,
      baselineRole: this.#baseline.role,
    };
    // Shadow spending belongs to the deployment, not to the user's session or client budget, and its
    // upstream time is not the request's; the request id still ties the calls to the request in the ledger.
    const work = runWithContextPatch(
      {
        shadow: true,
        sessionId: undefined,
        clientId: undefined,
        escalation: undefined,
        cacheHit: false,
        upstreamTime: undefined,
      },
      () => this.#sample(offer, sample),
    )
      .then(async (entry) => {
        await this.#store.recordShadowSample(entry);
        this.#onRecorded?.(entry);
      })
      .catch((error: unknown) => this.#logger.warn({ err: error }, "a shadow sample could not be recorded"));
    this.#running.add(work);
    void work.finally(() => this.#running.delete(work));
  }

  // Stops sampling work still running (its samples are recorded as failed) and waits for it to end.
  async close(): Promise<void> {
    this.#stop.abort(new Error("server shutting down"));
    await Promise.all(this.#running);
  }

  // Waits for the samples started so far.
  async settled(): Promise<void> {
    await Promise.all(this.#running);
  }

  #eligible(offer: ShadowOffer): boolean {
    const { answer } = offer;
    if (!offer.routedByCategory || answer.cached || answer.toolCalls) return false;
    if (offer.generation?.tools) return false;
    if (answer.role === this.#baseline.role || answer.model === this.#baseline.definition.model) return false;
    return answer.content.trim() !== "";
  }

  async #sample(offer: ShadowOffer, base: SampleBase): Promise<ShadowSampleEntry> {
    const run: SampleRun = { baselineModel: null, judgeModel: null, routedFirst: null, costUsd: 0 };
    const ended = (status: ShadowSampleEntry["status"], more: Partial<ShadowSampleEntry> = {}) => ({
      ...base,
      ...run,
      status,
      verdict: null,
      reason: null,
      errorCode: null,
      ...more,
    });
    try {
      const { tools: _tools, toolChoice: _toolChoice, ...generation } = offer.generation ?? {};
      const baseline = await this.#models.call(this.#baseline, {
        ...generation,
        messages: offer.conversationFor(this.#baseline),
        purpose: "shadow",
        priority: "low",
        signal: this.#stop.signal,
      });
      run.costUsd += baseline.usage.costUsd;
      run.baselineModel = baseline.model;
      const unusable = unusableReason(baseline, offer.generation);
      if (unusable) return ended("failed", { errorCode: `baseline_${unusable}` });
      // Position bias: judges tend to prefer one slot, so a coin decides which answer is A.
      run.routedFirst = this.#random() < 0.5;
      const answers: [string, string] = run.routedFirst
        ? [offer.answer.content, baseline.content]
        : [baseline.content, offer.answer.content];
      const judged = await this.#models.call(this.#judge, {
        messages: judgeMessages(offer.conversation, answers),
        purpose: "judge",
        priority: "low",
        temperature: 0,
        signal: this.#stop.signal,
      });
      run.costUsd += judged.usage.costUsd;
      run.judgeModel = judged.model;
      const ruling = parseRuling(judged.content);
      if (!ruling) {
        return ended("unparsed", { reason: judged.content.replace(/\s+/g, " ").trim().slice(0, 300) });
      }
      return ended("judged", { verdict: verdictOf(ruling, run.routedFirst), reason: ruling.reason });
    } catch (raw) {
      const error = toOrchestratorError(raw);
      // Refused by a budget (the shadow cap, or the day's): nothing more was called.
      if (error.code === "budget_exceeded") return ended("over_budget");
      this.#logger.info({ code: error.code }, "shadow sample failed; the user's answer is not affected");
      return ended("failed", { errorCode: error.code });
    }
  }
}

type SampleBase = Pick<
  ShadowSampleEntry,
  "at" | "requestId" | "sessionId" | "category" | "routedRole" | "routedModel" | "baselineRole"
>;

interface SampleRun {
  baselineModel: string | null;
  judgeModel: string | null;
  routedFirst: boolean | null;
  costUsd: number;
}
