import type {
  ChatProvider,
  ChatRequest,
  ChatResult,
  ChatStreamEvent,
  ProviderName,
  ToolCall,
} from "../../src/providers/chat-provider.ts";

// What the in-memory provider answers to one request.
export type ScriptedReply =
  | {
      readonly kind: "text";
      readonly content: string;
      readonly finishReason?: string;
      readonly promptTokens?: number;
      readonly completionTokens?: number;
      readonly reasoningTokens?: number;
      readonly reportedCostUsd?: number;
      readonly toolCalls?: readonly ToolCall[];
    }
  // Thrown as it is: an OrchestratorError of the kind a real provider would raise.
  | { readonly kind: "fail"; readonly error: unknown }
  // Answers nothing until the request's signal aborts, then fails with its reason.
  | { readonly kind: "hang" }
  // Waits for `until` (a test's gate), then answers `reply`.
  | { readonly kind: "gated"; readonly until: Promise<unknown>; readonly reply: ScriptedReply };

export type Responder = (request: ChatRequest) => ScriptedReply;

export const text = (content: string, extra: Partial<Extract<ScriptedReply, { kind: "text" }>> = {}) =>
  ({ kind: "text", content, ...extra }) as const;

export const fail = (error: unknown): ScriptedReply => ({ kind: "fail", error });

export const gated = (until: Promise<unknown>, reply: ScriptedReply): ScriptedReply => ({
  kind: "gated",
  until,
  reply,
});

// A chat provider that lives in memory: replies are scripted per model (a queue, then the default
// responder), every request is recorded, and streams send the text in two pieces. It lets the real
// ModelClient, ChatService and workflow executors run without HTTP, a fake upstream or real time.
export class InMemoryChatProvider implements ChatProvider {
  readonly name: ProviderName;
  readonly requests: ChatRequest[] = [];
  readonly #queues = new Map<string, ScriptedReply[]>();
  readonly #responder: Responder;
  // Called when a request arrives, before it is answered (a test can wait for "the model was asked").
  readonly #listeners: ((request: ChatRequest) => void)[] = [];

  constructor(responder: Responder = (request) => text(`answer from ${request.model}`), name?: ProviderName) {
    this.#responder = responder;
    this.name = name ?? "openrouter";
  }

  // The next requests to `model` get these replies in turn; after them, the default responder answers.
  script(model: string, ...replies: ScriptedReply[]): this {
    this.#queues.set(model, [...(this.#queues.get(model) ?? []), ...replies]);
    return this;
  }

  onRequest(listener: (request: ChatRequest) => void): void {
    this.#listeners.push(listener);
  }

  // The first request (or the next one) for which `match` holds, as a promise.
  asked(match: (request: ChatRequest) => boolean): Promise<ChatRequest> {
    const seen = this.requests.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.onRequest((request) => match(request) && resolve(request)));
  }

  requestsTo(model: string): ChatRequest[] {
    return this.requests.filter((request) => request.model === model);
  }

  async complete(request: ChatRequest): Promise<ChatResult> {
    return this.#answer(request, this.#take(request));
  }

  async *stream(request: ChatRequest): AsyncIterable<ChatStreamEvent> {
    const result = await this.#answer(request, this.#take(request));
    const half = Math.ceil(result.content.length / 2);
    for (const piece of [result.content.slice(0, half), result.content.slice(half)]) {
      if (piece) yield { type: "delta", text: piece };
    }
    yield { type: "done", result };
  }

  #take(request: ChatRequest): ScriptedReply {
    this.requests.push(request);
    for (const listener of this.#listeners) listener(request);
    return this.#queues.get(request.model)?.shift() ?? this.#responder(request);
  }

  async #answer(request: ChatRequest, reply: ScriptedReply): Promise<ChatResult> {
    request.signal?.throwIfAborted();
    switch (reply.kind) {
      case "fail":
        throw reply.error;
      case "hang":
        return new Promise((_, reject) => {
          const signal = request.signal;
          if (!signal) return;
          signal.addEventListener("abort", () => reject(signal.reason), { once: true });
        });
      case "gated":
        await reply.until;
        return this.#answer(request, reply.reply);
      case "text":
        return {
          content: reply.content,
          model: request.model,
          finishReason: reply.finishReason ?? "stop",
          usage: {
            promptTokens: reply.promptTokens ?? 10,
            completionTokens: reply.completionTokens ?? 5,
            ...(reply.reasoningTokens === undefined ? {} : { reasoningTokens: reply.reasoningTokens }),
            ...(reply.reportedCostUsd === undefined ? {} : { reportedCostUsd: reply.reportedCostUsd }),
          },
          ...(reply.toolCalls ? { toolCalls: reply.toolCalls } : {}),
        };
    }
  }
}
