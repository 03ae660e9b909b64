import type { Logger } from "pino";
import type { AppConfig } from "../config/index.ts";
import { clip } from "../core/clip.ts";
import type { Clock } from "../core/clock.ts";
import { toOrchestratorError } from "../core/errors.ts";
import type { IdGenerator } from "../core/ids.ts";
import { currentContext } from "../core/request-context.ts";
import { storedSessionId, visibleSessionId } from "../core/session-scope.ts";
import { sumUsage, type Usage } from "../core/usage.ts";
import type { ResolvedRole } from "../models/model-catalog.ts";
import type { ModelClient, RoleCall, RoleCallResult } from "../models/model-client.ts";
import { Speculation } from "../models/speculation.ts";
import {
  type ChatMessage,
  type ContentPart,
  type GenerationOptions,
  type ProviderName,
  type ToolCall,
  textOf,
} from "../providers/chat-provider.ts";
import type { ShadowSampler } from "../quality/shadow-sampler.ts";
import type { Spend } from "../resilience/upstream-guard.ts";
import { type UnusableReason, unusableReason } from "../routing/answer-check.ts";
import { categorize } from "../routing/categorize.ts";
import type { Category } from "../routing/category.ts";
import type { LabelMemo } from "../routing/label-memo.ts";
import type { ContextCount } from "../routing/pre-route.ts";
import type { QualityStandings } from "../routing/quality-standing.ts";
import {
  type Classification,
  decideRoute,
  type RouteDecision,
  type RouteRequest,
  type RouterKnowledge,
  type RouterPolicy,
} from "../routing/router.ts";
import { routerKnowledge } from "../routing/router-knowledge.ts";
import type { NewMessage, Store, StoredMessage } from "../store/store.ts";
import { boundsFromBytes, exactCountNeeded } from "../tokens/count-decision.ts";
import { estimateFromBytes, type TokenCounter } from "../tokens/token-counter.ts";
import type { WorkflowService } from "../workflows/workflow-service.ts";
import type { HistorySummarizer } from "./history-summarizer.ts";
import { historyWindow, recentMessages } from "./history-window.ts";
import { traceRoute } from "./route-span.ts";
import type { RoutingInfo } from "./routing-info.ts";
import { type StartedAnswer, startAnswer } from "./started-answer.ts";
import { summaryPreamble } from "./summary-prompt.ts";
import { readWindow } from "./window-read.ts";

// Who answers: the full pipeline ("auto"), a role chosen by the client, or a model id passed through.
export type ChatTarget =
  | { readonly kind: "auto" }
  | { readonly kind: "role"; readonly role: string }
  | { readonly kind: "model"; readonly resolved: ResolvedRole };

export interface ChatInput {
  // The user's new message: what the categorizer reads and, in session mode, what is stored.
  readonly message: string;
  readonly images?: readonly string[] | undefined;
  // Session mode: the history is loaded from the store and the turn is stored.
  readonly sessionId?: string | undefined;
  readonly contextTokens?: number | undefined;
  // Stateless mode (the OpenAI-compatible API): the client sends the whole conversation, which goes to the
  // model as it is (message and images only inform routing); nothing is stored.
  readonly conversation?: readonly ChatMessage[] | undefined;
  readonly target?: ChatTarget | undefined;
  // Forwarded to the answering model only, never to the categorizer.
  readonly generation?: GenerationOptions | undefined;
}

export interface RouteInfo {
  readonly sessionId: string | null;
  readonly category: Category | null;
  readonly role: string;
  readonly model: string;
  readonly routing: RoutingInfo;
}

export interface ChatReply {
  readonly sessionId: string | null;
  readonly response: string;
  readonly timestamp: string;
  readonly category: Category | null;
  readonly role: string;
  readonly model: string;
  readonly provider: ProviderName;
  readonly finishReason: string;
  // Everything this request spent, categorizer included.
  readonly usage: Usage;
  readonly workflowId?: string;
  // The role's own model that failed when a fallback answered instead.
  readonly fallbackFrom?: string;
  readonly toolCalls?: readonly ToolCall[];
  readonly logprobs?: unknown;
  // The answer came from the response cache.
  readonly cached?: true;
  readonly routing: RoutingInfo;
}

export type ChatEvent =
  | { readonly type: "routed"; readonly route: RouteInfo }
  | { readonly type: "delta"; readonly text: string; readonly model: string }
  | { readonly type: "tool_call_delta"; readonly deltas: readonly unknown[]; readonly model: string }
  | { readonly type: "done"; readonly reply: ChatReply };

export interface ChatServiceDeps {
  readonly config: AppConfig;
  readonly models: ModelClient;
  readonly store: Store;
  readonly tokens: TokenCounter;
  readonly workflows: WorkflowService;
  readonly clock: Clock;
  readonly newId: IdGenerator;
  readonly logger: Logger;
  // Offered every answer, to sample some for the quality figure in the background.
  readonly shadow?: ShadowSampler | undefined;
  // Counts speculations confirmed and refuted.
  readonly metrics?: { onSpeculation(outcome: "confirmed" | "refuted"): void } | undefined;
  // Judged quality per category, which may step a category's traffic up its ladder.
  readonly quality?: QualityStandings | undefined;
  // Recent categorizer labels, so a repeated question makes no categorizer call.
  readonly labels?: LabelMemo | undefined;
  // Folds the turns that leave a session's window into its summary (sessions.history).
  readonly summarizer?: HistorySummarizer | undefined;
}

const acknowledgementPrompt =
  "You are the fast-response assistant of an AI orchestration service. The user's request is a multi-part task " +
  "that a planned workflow of specialised models will carry out in the background; the result will be posted " +
  "in this conversation when ready. In one or two sentences, acknowledge the request and say what will be " +
  "produced. Do not attempt the task itself.";

// The model client's error for an answer that stayed empty when asked again with more room.
const emptyAnswerCode = "empty_answer";

// Reserve for the chat template's own tokens, which no tokenizer on our side sees.
const messageOverheadTokens = 64;

interface Turn {
  readonly input: ChatInput;
  readonly sessionId: string | null;
  // The session's window of recent messages (with maxTokens 0, its whole history), oldest first.
  readonly history: readonly StoredMessage[];
  // The rolling summary of the turns before the window.
  readonly summary: { readonly text: string; readonly tokens: number } | undefined;
  // The window's size as stored, before this turn: what decides when the summarizer folds.
  readonly windowTokens: number;
  readonly messageTokens: number;
  readonly contextTokens: number;
  // Past the refusal limit, counting stops: contextTokens is then a lower bound or an estimate.
  readonly contextCount: ContextCount;
  readonly images: readonly string[];
  readonly signal: AbortSignal | undefined;
  readonly streaming: boolean;
  // What a refuted speculative call cost, once it has ended: part of the request's usage.
  waste?: Promise<Spend | undefined>;
}

type ChatRun = AsyncGenerator<ChatEvent, void, undefined>;

// The /chat pipeline of the spec's "Request Flow": pre-route, categorize, answer, remember.
// One pipeline serves both plain and streamed replies; only the answering call differs.
export class ChatService {
  readonly #deps: ChatServiceDeps;
  readonly #policy: RouterPolicy;
  readonly #knowledge: RouterKnowledge;

  constructor(deps: ChatServiceDeps) {
    this.#deps = deps;
    this.#policy = deps.config.routing;
    this.#knowledge = routerKnowledge(deps.models, deps.quality);
  }

  async chat(input: ChatInput, signal?: AbortSignal): Promise<ChatReply> {
    for await (const event of this.#run(input, signal, false)) {
      if (event.type === "done") return event.reply;
    }
    throw new Error("the chat pipeline ended without a reply");
  }

  // Events: "routed" once the answering model is chosen, then text as it is generated, then "done".
  chatStream(input: ChatInput, signal?: AbortSignal): ChatRun {
    return this.#run(input, signal, true);
  }

  // Prepares the turn, asks the router, and carries out its decision: a classification first when it needs
  // one (with the likely route's call started alongside, and the label memo before it), then the answer or
  // the workflow.
  async *#run(input: ChatInput, signal: AbortSignal | undefined, streaming: boolean): ChatRun {
    const turn = await this.#prepare(input, signal, streaming);
    const routingStarted = Date.now();
    const request = this.#routeRequest(turn);
    let decision = decideRoute(request, this.#policy, this.#knowledge);
    let classification: Classification | undefined;
    let spent: RoleCallResult[] = [];
    let speculation: { readonly ticket: Speculation; readonly started: StartedAnswer } | undefined;
    try {
      if (decision.kind === "classify") {
        const recent = this.#recentTurns(turn, this.#deps.config.routing.categorizer.historyMessages);
        const scope = currentContext()?.clientId;
        const remembered = this.#deps.labels?.get(scope, input.message, recent);
        if (remembered) {
          classification = { category: remembered, source: "memo" };
        } else {
          if (decision.speculate) speculation = this.#speculate(turn, decision.speculate);
          const outcome = await this.#classify(turn, recent);
          classification = outcome.classification;
          spent = outcome.spent;
          this.#deps.labels?.remember(scope, input.message, recent, classification);
        }
        decision = decideRoute(request, this.#policy, this.#knowledge, classification);
      }
      const context = currentContext();
      if (context) {
        if (classification) context.category = classification.category;
        context.routeRule = decision.kind === "answer" ? decision.rule : "category";
      }
      const confirmed =
        speculation && decision.kind === "answer" && decision.role === speculation.ticket.role
          ? speculation
          : undefined;
      if (speculation) {
        if (confirmed) speculation.ticket.confirm();
        else {
          speculation.ticket.refute();
          const { ticket, started } = speculation;
          turn.waste = started.ended.then(() => ticket.wastedSpend());
        }
        this.#deps.metrics?.onSpeculation(confirmed ? "confirmed" : "refuted");
      }
      const routing = routingInfo(turn, decision, classification, speculation?.ticket.state);
      if (context) context.routeTrace = routing.trace;
      traceRoute(routing, decision, routingStarted);
      if (decision.kind === "orchestrate") {
        yield* this.#orchestrate(turn, decision.category, routing, spent);
        return;
      }
      if (decision.kind !== "answer") throw new Error("the router asked for a classification twice");
      const answerer =
        decision.role !== undefined
          ? this.#deps.models.resolve(decision.role)
          : input.target?.kind === "model"
            ? input.target.resolved
            : undefined;
      if (!answerer) throw new Error("the router picked no model");
      const escalateTo = decision.escalation[0];
      yield* this.#answer(
        turn,
        answerer,
        decision.category,
        routing,
        spent,
        escalateTo === undefined ? undefined : this.#deps.models.resolve(escalateTo),
        confirmed?.started,
      );
    } finally {
      // A request that ends before its route is known (an error, a client gone) leaves no call running.
      speculation?.ticket.refute();
    }
  }

  // The categorizer's label, or the local rule's when it fails; how long it took is part of the trace.
  async #classify(
    turn: Turn,
    recent: readonly ChatMessage[],
  ): Promise<{ classification: Classification; spent: RoleCallResult[] }> {
    const { config, clock, logger } = this.#deps;
    const started = clock.now();
    const outcome = await categorize(
      this.#deps.models,
      config.routing.categorizer.role,
      turn.input.message,
      recent,
      turn.signal,
      started + config.routing.categorizer.timeoutMs,
    );
    if (outcome.source === "fallback") {
      logger.warn({ reason: outcome.fallbackReason }, "categorizer fell back to the local rule");
    }
    return {
      classification: {
        category: outcome.category,
        source: outcome.source,
        ms: clock.now() - started,
        ...(outcome.call ? { model: outcome.call.model } : {}),
        ...(outcome.fallbackReason ? { fallbackReason: outcome.fallbackReason } : {}),
      },
      spent: outcome.call ? [outcome.call] : [],
    };
  }

  // Starts the likely route's answer now, alongside the categorizer; a streamed answer is held (buffered)
  // until the label confirms it, so the client never sees text of a route that was not chosen.
  #speculate(turn: Turn, role: string): { ticket: Speculation; started: StartedAnswer } {
    const ticket = new Speculation(role);
    const answerer = this.#deps.models.resolve(role);
    const signal = turn.signal ? AbortSignal.any([turn.signal, ticket.signal]) : ticket.signal;
    const call: RoleCall = { ...this.#answerCall(turn, answerer), signal, speculation: ticket };
    return { ticket, started: startAnswer(this.#deps.models, answerer, call, turn.streaming, true) };
  }

  #routeRequest(turn: Turn): RouteRequest {
    const target = turn.input.target ?? { kind: "auto" };
    const format = turn.input.generation?.responseFormat?.type;
    return {
      target: target.kind === "model" ? { kind: "model", model: target.resolved.definition.model } : target,
      contextTokens: turn.contextTokens,
      contextCount: turn.contextCount,
      requiredTokens: turn.input.conversation ? turn.contextTokens : turn.messageTokens,
      imageCount: turn.images.length,
      needs: {
        tools: (turn.input.generation?.tools?.length ?? 0) > 0,
        jsonSchema: format === "json_schema",
        jsonObject: format === "json_object",
        images: turn.images.length > 0,
      },
    };
  }

  async #prepare(input: ChatInput, signal: AbortSignal | undefined, streaming: boolean): Promise<Turn> {
    const { newId } = this.#deps;
    const stateless = input.conversation !== undefined;
    const context = currentContext();
    // Stored under the client's key id: a session id names a session of this client only.
    const sessionId = stateless ? null : storedSessionId(context?.clientId, input.sessionId ?? newId());
    if (context && sessionId) context.sessionId = sessionId;
    const { history, summary, windowTokens } =
      sessionId && input.sessionId ? await this.#loadHistory(sessionId) : noHistory;
    // What this turn sends of the history: the summary and the window, capped as #conversation caps it.
    const sent = recentMessages(history, this.#maxHistoryTokens());
    const historyTokens = (summary?.tokens ?? 0) + sent.reduce((sum, m) => sum + m.tokens, 0);
    const measured = await this.#measure(input, historyTokens);
    return {
      input,
      sessionId,
      history,
      summary,
      windowTokens,
      messageTokens: measured.messageTokens,
      contextTokens: Math.max(input.contextTokens ?? 0, measured.contextTokens),
      contextCount: measured.counted,
      images: input.images ?? [],
      signal,
      streaming,
    };
  }

  // The window's messages only (a tail read by index) and the summary state from the session row; with
  // maxTokens 0, the whole history as it is.
  async #loadHistory(sessionId: string): Promise<LoadedHistory> {
    const { store } = this.#deps;
    if (this.#deps.config.sessions.history.maxTokens === 0) {
      const history = await store.listMessages(sessionId);
      return { history, summary: undefined, windowTokens: 0 };
    }
    const state = await store.getSession(sessionId);
    if (!state) return noHistory;
    const history = await readWindow(store, state, this.#deps.config.sessions.history.maxTokens);
    const summary = state.summary ? { text: state.summary, tokens: state.summaryTokens } : undefined;
    return { history, summary, windowTokens: state.windowTokens };
  }

  #maxHistoryTokens(): number {
    const { maxTokens } = this.#deps.config.sessions.history;
    return maxTokens === 0 ? Number.POSITIVE_INFINITY : maxTokens;
  }

  // Once the turn is stored: the summarizer folds the window's oldest turns if it has grown past maxTokens.
  #afterStored(turn: Turn, stored: readonly NewMessage[]): void {
    if (turn.sessionId === null) return;
    const added = stored.reduce((sum, m) => sum + m.tokens, 0);
    this.#deps.summarizer?.afterTurn(turn.sessionId, turn.windowTokens + added);
  }

  // Estimated from length, and counted exactly only when the length leaves a routing rule or the refusal
  // limit undecided; then the request's texts are one job for the worker thread, counted only until the
  // total passes the refusal limit (see tokens/count-decision.ts).
  async #measure(
    input: ChatInput,
    historyTokens: number,
  ): Promise<{ messageTokens: number; contextTokens: number; counted: ContextCount }> {
    const rules = this.#deps.config.routing.preRouting;
    // Stateless, the conversation is the context; in a session, the stored history's counts and the message.
    const texts = input.conversation ? input.conversation.map((m) => textOf(m.content)) : [input.message];
    const base = input.conversation ? 0 : historyTokens;
    let bytes = 0;
    let estimate = 0;
    for (const text of texts) {
      const textBytes = Buffer.byteLength(text, "utf8");
      bytes += textBytes;
      estimate += estimateFromBytes(textBytes);
    }
    const messageTokens = input.conversation ? this.#deps.tokens.estimate(input.message) : estimate;
    // A named model skips the routing rules: only the refusal limit can depend on the count.
    const thresholds =
      (input.target ?? { kind: "auto" }).kind === "auto"
        ? [rules.thinkingContextTokens, rules.largeContextTokens, rules.maxContextTokens]
        : [rules.maxContextTokens];
    if (!exactCountNeeded(boundsFromBytes(bytes, base), thresholds)) {
      return { messageTokens, contextTokens: base + estimate, counted: "exact" };
    }
    const counted = await this.#deps.tokens.countUpTo(texts, rules.maxContextTokens - base);
    return {
      messageTokens: input.conversation ? messageTokens : counted.tokens,
      contextTokens: base + counted.tokens,
      counted: counted.exact ? "exact" : counted.sampled ? "sampled" : "at_least",
    };
  }

  async *#answer(
    turn: Turn,
    answerer: ResolvedRole,
    category: Category | null,
    routing: RoutingInfo,
    spent: readonly RoleCallResult[],
    escalateTo?: ResolvedRole,
    started?: StartedAnswer,
  ): ChatRun {
    yield { type: "routed", route: this.#route(turn, answerer, category, routing) };
    const shown = { text: false };
    const calls = [...spent];
    let answeredRouting = routing;
    const routedCall = this.#answerCall(turn, answerer);
    const routed = yield* this.#routedAnswer(
      turn,
      answerer,
      routedCall,
      shown,
      escalateTo !== undefined,
      started,
    );
    let call: RoleCallResult;
    if (escalateTo && routed.unusable) {
      const { reason, fromModel } = routed.unusable;
      this.#deps.logger.warn(
        { model: fromModel, reason, to: escalateTo.definition.model },
        "routed answer unusable; escalating to a stronger role",
      );
      const context = currentContext();
      if (context) context.escalation = reason;
      if (routed.call) calls.push(routed.call);
      answeredRouting = {
        ...routing,
        escalated: { fromRole: answerer.role, fromModel, reason },
        trace: [
          ...routing.trace,
          {
            step: "escalation",
            detail: `${answerer.role}'s answer was unusable (${reason}): ${escalateTo.role} answered`,
          },
        ],
      };
      call = yield* this.#generate(turn, escalateTo, this.#answerCall(turn, escalateTo), shown);
    } else if (routed.call) {
      call = routed.call;
    } else {
      throw new Error("the routed answer is missing");
    }
    calls.push(call);
    if (turn.sessionId !== null) {
      const stored = [this.#userMessage(turn, category), await this.#assistantMessage(call, category)];
      await this.#deps.store.appendMessages(turn.sessionId, stored);
      this.#afterStored(turn, stored);
    }
    if (!answeredRouting.escalated) {
      this.#deps.shadow?.offer({
        category,
        routedByCategory: routing.rule === "category",
        answer: call,
        conversation: routedCall.messages,
        conversationFor: (role) => this.#conversation(turn, role),
        generation: turn.input.generation,
      });
    }
    const waste = await turn.waste;
    yield { type: "done", reply: this.#reply(turn, call, category, answeredRouting, calls, waste) };
  }

  // The routed model's answer, and whether it is unusable: by the checks of answer-check, or because the model
  // client gave up on it as empty (a thinking model whose reasoning took all the room, even when asked again).
  // A streamed answer can be replaced only while none of its text has reached the client.
  async *#routedAnswer(
    turn: Turn,
    answerer: ResolvedRole,
    routedCall: RoleCall,
    shown: { text: boolean },
    canEscalate: boolean,
    started?: StartedAnswer,
  ): AsyncGenerator<
    ChatEvent,
    { call?: RoleCallResult; unusable?: { reason: UnusableReason; fromModel: string } }
  > {
    try {
      const call = yield* this.#generate(turn, answerer, routedCall, shown, started);
      const reason = canEscalate && !shown.text ? unusableReason(call, turn.input.generation) : undefined;
      return reason ? { call, unusable: { reason, fromModel: call.model } } : { call };
    } catch (raw) {
      const error = toOrchestratorError(raw);
      if (!canEscalate || shown.text || error.code !== emptyAnswerCode) throw error;
      return { unusable: { reason: "empty", fromModel: error.model ?? answerer.definition.model } };
    }
  }

  #answerCall(turn: Turn, answerer: ResolvedRole): RoleCall {
    return { messages: this.#conversation(turn, answerer), purpose: "answer", ...turn.input.generation };
  }

  // H: an immediate acknowledgement now; the work itself runs in the background under a workflow id.
  async *#orchestrate(
    turn: Turn,
    category: Category,
    routing: RoutingInfo,
    spent: readonly RoleCallResult[],
  ): ChatRun {
    const { config, models, store, workflows, newId } = this.#deps;
    await workflows.assertCapacity();
    const acknowledger = models.resolve(config.routing.acknowledgementRole);
    yield { type: "routed", route: this.#route(turn, acknowledger, category, routing) };
    const ack = yield* this.#generate(turn, acknowledger, {
      messages: [
        { role: "system", content: acknowledgementPrompt },
        ...this.#conversation(turn, acknowledger),
      ],
      purpose: "acknowledge",
    });
    const workflowId = newId();
    const request = { message: this.#withContext(turn), category };
    const announce =
      turn.sessionId === null
        ? []
        : [
            this.#userMessage(turn, category),
            { ...(await this.#assistantMessage(ack, category)), workflowId },
          ];
    const owner = currentContext()?.clientId ?? null;
    await store.createRun(
      { id: workflowId, sessionId: turn.sessionId, kind: "chat", request, owner },
      announce,
    );
    this.#afterStored(turn, announce);
    await workflows.orchestrate(workflowId, request, owner);
    yield {
      type: "done",
      reply: { ...this.#reply(turn, ack, category, routing, [...spent, ack], await turn.waste), workflowId },
    };
  }

  // Streams the model's text on when the caller streams; otherwise makes one plain call, which may
  // still be retried or fall back at any point since nothing has been sent yet.
  async *#generate(
    turn: Turn,
    answerer: ResolvedRole,
    call: RoleCall,
    shown?: { text: boolean },
    started?: StartedAnswer,
  ): AsyncGenerator<ChatEvent, RoleCallResult> {
    const withSignal = turn.signal ? { ...call, signal: turn.signal } : call;
    const answer = started ?? startAnswer(this.#deps.models, answerer, withSignal, turn.streaming);
    if (answer.kind === "call") return await answer.result;
    for await (const event of answer.events) {
      if (event.type === "done") return event.result;
      if (shown && (event.type !== "delta" || event.text.trim() !== "")) shown.text = true;
      yield event;
    }
    throw new Error("the model stream ended without a result");
  }

  // The planner sees the request with a glimpse of the conversation before it, so follow-ups make sense.
  #withContext(turn: Turn): string {
    const recent = this.#recentTurns(turn, 4)
      .map((m) => `${m.role}: ${clip(textOf(m.content), 1_000)}`)
      .join("\n");
    return recent ? `Conversation so far:\n${recent}\n\nRequest:\n${turn.input.message}` : turn.input.message;
  }

  #recentTurns(turn: Turn, count: number): ChatMessage[] {
    const { conversation } = turn.input;
    if (conversation) {
      // Everything before the latest user message, which the categorizer gets separately.
      const lastUser = conversation.findLastIndex((m) => m.role === "user");
      const before = conversation.slice(0, Math.max(0, lastUser));
      return before.filter((m) => m.role === "user" || m.role === "assistant").slice(-count);
    }
    return historyWindow(turn.history.slice(-count), Number.POSITIVE_INFINITY);
  }

  // Stateless callers' conversations go as sent. Sessions get the summary of older turns, then the window of
  // recent turns (at most sessions.history.maxTokens, and what fits the model), then the message. The summary
  // and the window change only when the summarizer folds, so they are a stable prefix: both end in a
  // prompt-cache breakpoint.
  #conversation(turn: Turn, answerer: ResolvedRole): ChatMessage[] {
    if (turn.input.conversation) return [...turn.input.conversation];
    const content: string | ContentPart[] =
      turn.images.length === 0
        ? turn.input.message
        : [
            { type: "text", text: turn.input.message },
            ...turn.images.map((url) => ({ type: "image" as const, url })),
          ];
    const user: ChatMessage = { role: "user", content };
    const { definition } = answerer;
    const summaryTokens = turn.summary ? turn.summary.tokens + messageOverheadTokens : 0;
    const budget =
      definition.contextWindow -
      definition.maxOutputTokens -
      turn.messageTokens -
      messageOverheadTokens -
      summaryTokens;
    const window = historyWindow(turn.history, Math.min(this.#maxHistoryTokens(), Math.max(0, budget)));
    const last = window.length - 1;
    return [
      ...(turn.summary
        ? [{ role: "system" as const, content: summaryPreamble(turn.summary.text), cacheControl: breakpoint }]
        : []),
      ...window.map((m, i) => (i === last ? { ...m, cacheControl: breakpoint } : m)),
      user,
    ];
  }

  #route(turn: Turn, answerer: ResolvedRole, category: Category | null, routing: RoutingInfo): RouteInfo {
    return {
      sessionId: visibleSessionId(turn.sessionId),
      category,
      role: answerer.role,
      model: answerer.definition.model,
      routing,
    };
  }

  #userMessage(turn: Turn, category: Category | null): NewMessage {
    return {
      role: "user",
      content: turn.input.message,
      tokens: turn.messageTokens,
      imageCount: turn.images.length,
      ...(category ? { category } : {}),
    };
  }

  async #assistantMessage(call: RoleCallResult, category: Category | null): Promise<NewMessage> {
    return {
      role: "assistant",
      content: call.content,
      tokens: this.#deps.tokens.estimate(call.content),
      model: call.model,
      provider: call.provider,
      ...(category ? { category } : {}),
    };
  }

  #reply(
    turn: Turn,
    call: RoleCallResult,
    category: Category | null,
    routing: RoutingInfo,
    calls: readonly RoleCallResult[],
    waste?: Spend,
  ): ChatReply {
    return {
      sessionId: visibleSessionId(turn.sessionId),
      response: call.content,
      timestamp: this.#deps.clock.isoNow(),
      category,
      role: call.role,
      model: call.model,
      provider: call.provider,
      finishReason: call.finishReason,
      usage: sumUsage([...calls.map((call) => call.usage), ...(waste ? [waste] : [])]),
      routing,
      ...(call.fallbackFrom ? { fallbackFrom: call.fallbackFrom } : {}),
      ...(call.toolCalls ? { toolCalls: call.toolCalls } : {}),
      ...(call.logprobs === undefined ? {} : { logprobs: call.logprobs }),
      ...(call.cached ? { cached: true } : {}),
    };
  }
}

interface LoadedHistory {
  readonly history: readonly StoredMessage[];
  readonly summary: { readonly text: string; readonly tokens: number } | undefined;
  readonly windowTokens: number;
}

const noHistory: LoadedHistory = { history: [], summary: undefined, windowTokens: 0 };

// The end of the stable prefix, for providers that cache prompts.
const breakpoint = { type: "ephemeral" } as const;

// What the answer says of its route: the rule, the label and how it was found, what the constraints passed
// over, whether speculation was confirmed, and every step of the trace.
function routingInfo(
  turn: { readonly contextTokens: number },
  decision: RouteDecision,
  classification: Classification | undefined,
  speculation: "pending" | "confirmed" | "refuted" | undefined,
): RoutingInfo {
  const answered = decision.kind === "answer" ? decision : undefined;
  const trace = [...decision.trace];
  if (speculation === "confirmed" || speculation === "refuted") {
    trace.push({
      step: "speculation",
      detail:
        speculation === "confirmed"
          ? "the likely route's call, started alongside the categorizer, was confirmed and answered"
          : "the likely route's call, started alongside the categorizer, was refuted and aborted",
    });
  }
  return {
    rule: answered?.rule ?? "category",
    contextTokens: turn.contextTokens,
    ...(classification
      ? {
          categorizer: {
            source: classification.source,
            ...(classification.model ? { model: classification.model } : {}),
            ...(classification.fallbackReason ? { fallbackReason: classification.fallbackReason } : {}),
            ...(classification.ms === undefined ? {} : { ms: classification.ms }),
          },
        }
      : {}),
    ...(speculation === "confirmed" || speculation === "refuted" ? { speculation } : {}),
    ...(answered?.steppedUp ? { steppedUp: true } : {}),
    ...(answered && answered.skipped.length > 0 ? { skipped: answered.skipped } : {}),
    trace,
  };
}
