import type { Logger } from "pino";
import type { AppConfig } from "../config/index.ts";
import { toOrchestratorError } from "../core/errors.ts";
import type { ModelClient } from "../models/model-client.ts";
import type { Store } from "../store/store.ts";
import type { TokenCounter } from "../tokens/token-counter.ts";
import { planFold } from "./history-fold.ts";
import { summaryMessages } from "./summary-prompt.ts";

export type HistoryPolicy = AppConfig["sessions"]["history"];

// A fold takes at most this many windows' worth of turns at once (a summarizer that fell behind catches up
// over several turns, with a bounded prompt each time).
const maxFoldWindows = 2;

// Folds the turns that leave a session's window into its rolling summary, after the answer and off the
// request path. Only those turns are sent, with the summary so far: never the whole history again. A fold
// that fails writes nothing and the next turn tries again; the session's window start is compared on write,
// so two instances folding the same session at once fold it once.
export class HistorySummarizer {
  readonly #store: Store;
  readonly #models: ModelClient;
  readonly #tokens: TokenCounter;
  readonly #policy: HistoryPolicy;
  readonly #logger: Logger;
  readonly #running = new Map<string, Promise<void>>();
  readonly #stop = new AbortController();

  constructor(deps: {
    store: Store;
    models: ModelClient;
    tokens: TokenCounter;
    policy: HistoryPolicy;
    logger: Logger;
  }) {
    this.#store = deps.store;
    this.#models = deps.models;
    this.#tokens = deps.tokens;
    this.#policy = deps.policy;
    this.#logger = deps.logger;
  }

  // Called after a turn is stored, with the window's size including it: a fold starts in the background once
  // the window has passed maxTokens (one at a time per session).
  afterTurn(sessionId: string, windowTokens: number): void {
    const { maxTokens } = this.#policy;
    if (maxTokens === 0 || windowTokens <= maxTokens || this.#stop.signal.aborted) return;
    if (this.#running.has(sessionId)) return;
    const work = this.#fold(sessionId).catch((error: unknown) => {
      const { code, message } = toOrchestratorError(error);
      this.#logger.warn(
        { code, message },
        "the session's history summary was not updated; the next turn retries",
      );
    });
    this.#running.set(sessionId, work);
    void work.finally(() => this.#running.delete(sessionId));
  }

  // Waits for the folds started so far.
  async settled(): Promise<void> {
    await Promise.all(this.#running.values());
  }

  // Aborts folds in flight (they write nothing) and waits for them to end.
  async close(): Promise<void> {
    this.#stop.abort(new Error("server shutting down"));
    await this.settled();
  }

  async #fold(sessionId: string): Promise<void> {
    const { maxTokens, summarize, summarizerRole, summaryMaxTokens } = this.#policy;
    const state = await this.#store.getSession(sessionId);
    if (!state || state.windowTokens <= maxTokens) return;
    const window = await this.#store.listMessagesFrom(sessionId, state.windowStart);
    const plan = planFold(window, maxTokens, maxTokens * maxFoldWindows);
    if (!plan || plan.leaving.length === 0) return;
    let summary: { text: string; tokens: number } | undefined;
    if (summarize) {
      const result = await this.#models.call(summarizerRole, {
        messages: summaryMessages(state.summary, plan.leaving),
        purpose: "summarize",
        maxTokens: summaryMaxTokens,
        temperature: 0,
        signal: this.#stop.signal,
      });
      const text = result.content.trim();
      if (text === "") throw new Error("the summarizer answered nothing");
      summary = { text, tokens: this.#tokens.estimate(text) };
    }
    await this.#store.foldHistory(sessionId, {
      expectedWindowStart: state.windowStart,
      windowStart: plan.nextStart,
      foldedMessages: plan.leaving.length,
      foldedTokens: plan.leavingTokens,
      ...(summary ? { summary } : {}),
    });
  }
}
