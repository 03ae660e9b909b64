import type { Logger } from "pino";
import type { AppConfig } from "../config/index.ts";
import type { Clock } from "../core/clock.ts";
import { toOrchestratorError } from "../core/errors.ts";
import type { IdGenerator } from "../core/ids.ts";
import type { ModelClient, RoleCallResult, RoleUsage } from "../models/model-client.ts";
import type { ChatMessage, ContentPart, ProviderName } from "../providers/chat-provider.ts";
import type { Category } from "../routing/category.ts";
import { preRoute } from "../routing/pre-route.ts";
import type { NewMessage, Store } from "../store/store.ts";
import type { TokenCounter } from "../tokens/token-counter.ts";
import type { RunRegistry } from "../workflows/run-registry.ts";
import { categorize } from "./categorize.ts";
import { historyWindow } from "./history-window.ts";

export interface ChatInput {
  readonly message: string;
  readonly sessionId?: string | undefined;
  readonly contextTokens?: number | undefined;
  readonly images?: readonly string[] | undefined;
}

export interface RoutingInfo {
  // What decided the model: a pre-routing rule, or the category.
  readonly rule: "images" | "large_context" | "very_large_context" | "category";
  readonly contextTokens: number;
  readonly categorizer?: {
    readonly source: "model" | "fallback";
    readonly model?: string;
    readonly fallbackReason?: string;
  };
}

export interface ChatReply {
  readonly sessionId: string;
  readonly response: string;
  readonly timestamp: string;
  readonly category: Category | null;
  readonly role: string;
  readonly model: string;
  readonly provider: ProviderName;
  // Everything this request spent, categorizer included.
  readonly usage: RoleUsage;
  readonly workflowId?: string;
  // The role's own model that failed when a fallback answered instead.
  readonly fallbackFrom?: string;
  readonly routing: RoutingInfo;
}

export interface ChatServiceDeps {
  readonly config: AppConfig;
  readonly models: ModelClient;
  readonly store: Store;
  readonly tokens: TokenCounter;
  readonly runs: RunRegistry;
  readonly clock: Clock;
  readonly newId: IdGenerator;
  readonly logger: Logger;
}

const acknowledgementPrompt =
  "You are the fast-response assistant of an AI orchestration service. The user's request is a multi-part task " +
  "that a planned workflow of specialised models will carry out in the background; the result will be posted " +
  "in this conversation when ready. In one or two sentences, acknowledge the request and say what will be " +
  "produced. Do not attempt the task itself.";

// Reserve for the chat template's own tokens, which no tokenizer on our side sees.
const messageOverheadTokens = 64;

// The /chat pipeline of the spec's "Request Flow": pre-route, categorize, answer, remember.
export class ChatService {
  readonly #deps: ChatServiceDeps;

  constructor(deps: ChatServiceDeps) {
    this.#deps = deps;
  }

  async chat(input: ChatInput, signal?: AbortSignal): Promise<ChatReply> {
    const { store, tokens, config, newId } = this.#deps;
    const sessionId = input.sessionId ?? newId();
    const history = input.sessionId ? await store.listMessages(sessionId) : [];
    const messageTokens = await tokens.count(input.message);
    const historyTokens = history.reduce((sum, m) => sum + m.tokens, 0);
    const contextTokens = Math.max(input.contextTokens ?? 0, historyTokens + messageTokens);
    const images = input.images ?? [];
    const decision = preRoute({ contextTokens, imageCount: images.length }, config.routing.preRouting);

    const turn = { input, sessionId, history, messageTokens, images, signal };
    if (decision.kind === "role") {
      return this.#answer(turn, decision.role, null, { rule: decision.reason, contextTokens }, []);
    }

    const recent = historyWindow(
      history.slice(-config.routing.categorizer.historyMessages),
      Number.POSITIVE_INFINITY,
    );
    const outcome = await categorize(
      this.#deps.models,
      config.routing.categorizer.role,
      input.message,
      recent,
      signal,
    );
    const routing: RoutingInfo = {
      rule: "category",
      contextTokens,
      categorizer: {
        source: outcome.source,
        ...(outcome.call ? { model: outcome.call.model } : {}),
        ...(outcome.fallbackReason ? { fallbackReason: outcome.fallbackReason } : {}),
      },
    };
    if (outcome.source === "fallback") {
      this.#deps.logger.warn({ reason: outcome.fallbackReason }, "categorizer fell back to the local rule");
    }
    const spent = outcome.call ? [outcome.call] : [];
    const target = config.routing.categories[outcome.category];
    if (target === "orchestration") return this.#orchestrate(turn, outcome.category, routing, spent);
    return this.#answer(turn, target, outcome.category, routing, spent);
  }

  async #answer(
    turn: Turn,
    role: string,
    category: Category | null,
    routing: RoutingInfo,
    spent: readonly RoleCallResult[],
  ): Promise<ChatReply> {
    const messages = this.#conversation(turn, role);
    const call = await this.#deps.models.call(role, { messages, purpose: "answer", ...signalOf(turn) });
    await this.#deps.store.appendMessages(turn.sessionId, [
      this.#userMessage(turn, category),
      await this.#assistantMessage(call, category),
    ]);
    return this.#reply(turn, call, category, routing, [...spent, call]);
  }

  // H: an immediate acknowledgement now; the work itself runs in the background under a workflow id.
  async #orchestrate(
    turn: Turn,
    category: Category,
    routing: RoutingInfo,
    spent: readonly RoleCallResult[],
  ): Promise<ChatReply> {
    const { config, models, store, runs, newId } = this.#deps;
    const ackRole = config.routing.acknowledgementRole;
    const ack = await models.call(ackRole, {
      messages: [{ role: "system", content: acknowledgementPrompt }, ...this.#conversation(turn, ackRole)],
      purpose: "acknowledge",
      ...signalOf(turn),
    });
    const workflowId = newId();
    await store.createRun(
      {
        id: workflowId,
        sessionId: turn.sessionId,
        kind: "chat",
        request: { message: turn.input.message, category, images: turn.images.length },
      },
      [this.#userMessage(turn, category), { ...(await this.#assistantMessage(ack, category)), workflowId }],
    );
    const work = this.#conversation(turn, config.orchestration.plannerRole);
    runs.start(workflowId, (signal) => this.#runInBackground(workflowId, category, work, signal));
    return { ...this.#reply(turn, ack, category, routing, [...spent, ack]), workflowId };
  }

  async #runInBackground(
    workflowId: string,
    category: Category,
    messages: ChatMessage[],
    signal: AbortSignal,
  ): Promise<void> {
    const { config, models, store, logger } = this.#deps;
    try {
      const call = await models.call(config.orchestration.plannerRole, {
        messages,
        purpose: "answer",
        priority: "medium",
        signal,
        deadline: this.#deps.clock.now() + config.orchestration.defaultTimeoutSeconds * 1000,
      });
      await store.finishRun(
        workflowId,
        { status: "completed", result: call.content, model: call.model, usage: call.usage },
        [{ ...(await this.#assistantMessage(call, category)), workflowId }],
      );
    } catch (error) {
      const failure = toOrchestratorError(error);
      logger.warn({ workflowId, code: failure.code }, "background run failed");
      await store
        .finishRun(workflowId, {
          status: signal.aborted ? "cancelled" : "failed",
          error: { type: failure.kind, code: failure.code, message: failure.message },
        })
        .catch((storeError: unknown) =>
          logger.error({ workflowId, err: storeError }, "could not record the run's failure"),
        );
    }
  }

  #conversation(turn: Turn, role: string): ChatMessage[] {
    const { definition } = this.#deps.models.resolve(role);
    const budget =
      definition.contextWindow - definition.maxOutputTokens - turn.messageTokens - messageOverheadTokens;
    const content: string | ContentPart[] =
      turn.images.length === 0
        ? turn.input.message
        : [
            { type: "text", text: turn.input.message },
            ...turn.images.map((url) => ({ type: "image" as const, url })),
          ];
    return [...historyWindow(turn.history, Math.max(0, budget)), { role: "user", content }];
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
      tokens: await this.#deps.tokens.count(call.content),
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
  ): ChatReply {
    return {
      sessionId: turn.sessionId,
      response: call.content,
      timestamp: this.#deps.clock.isoNow(),
      category,
      role: call.role,
      model: call.model,
      provider: call.provider,
      usage: sumUsage(calls),
      routing,
      ...(call.fallbackFrom ? { fallbackFrom: call.fallbackFrom } : {}),
    };
  }
}

interface Turn {
  readonly input: ChatInput;
  readonly sessionId: string;
  readonly history: Awaited<ReturnType<Store["listMessages"]>>;
  readonly messageTokens: number;
  readonly images: readonly string[];
  readonly signal: AbortSignal | undefined;
}

function signalOf(turn: Turn): { signal?: AbortSignal } {
  return turn.signal ? { signal: turn.signal } : {};
}

function sumUsage(calls: readonly RoleCallResult[]): RoleUsage {
  return calls.reduce(
    (sum, call) => ({
      promptTokens: sum.promptTokens + call.usage.promptTokens,
      completionTokens: sum.completionTokens + call.usage.completionTokens,
      costUsd: sum.costUsd + call.usage.costUsd,
    }),
    { promptTokens: 0, completionTokens: 0, costUsd: 0 },
  );
}
