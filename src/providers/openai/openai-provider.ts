import { type TimedSignal, timedSignal } from "../../core/timed-signal.ts";
import type {
  ChatProvider,
  ChatRequest,
  ChatResult,
  ChatStreamEvent,
  ChatUsage,
  ToolCall,
} from "../chat-provider.ts";
import type { EmbeddingsProvider, EmbeddingsRequest, EmbeddingsResult } from "../embeddings-provider.ts";
import {
  callUnderDeadline,
  classifyCall,
  parseEvent,
  reportedError,
  streamCutOff,
  ToolCallAssembler,
  type ToolCallDelta,
} from "../provider-call.ts";
import { malformedAnswer } from "../upstream-error.ts";
import { buildRequest, UpstreamHttp } from "../upstream-http.ts";
import { type OpenAiUsage, openAiBody, openAiUsage } from "./openai-wire.ts";

export interface OpenAiProviderOptions {
  // The configured name (openai, local, ...): what errors, logs and records call it.
  readonly name: string;
  readonly baseUrl: string;
  // Empty: no authorization header at all (a local server).
  readonly apiKey: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly defaultTimeoutMs: number;
}

interface WireCompletion {
  readonly model?: string;
  readonly choices?: ReadonlyArray<{
    readonly finish_reason?: string | null;
    readonly logprobs?: unknown;
    readonly message?: {
      readonly content?: string | null;
      readonly refusal?: string | null;
      readonly tool_calls?: readonly ToolCall[];
    };
  }>;
  readonly usage?: OpenAiUsage;
  readonly error?: { readonly message?: unknown; readonly code?: unknown };
}

interface WireChunk {
  readonly model?: string;
  readonly choices?: ReadonlyArray<{
    readonly finish_reason?: string | null;
    readonly delta?: { readonly content?: string | null; readonly tool_calls?: readonly ToolCallDelta[] };
  }>;
  readonly usage?: OpenAiUsage | null;
  readonly error?: { readonly message?: unknown; readonly code?: unknown };
}

// Any OpenAI-compatible Chat Completions API: OpenAI itself (Azure-style endpoints through the base URL and
// headers), or a local server on 127.0.0.1 that needs no key. Streaming follows
// https://platform.openai.com/docs/api-reference/chat-streaming: data-only events ending in [DONE], usage
// in a last chunk with no choices when stream_options.include_usage is set.
export class OpenAiProvider implements ChatProvider, EmbeddingsProvider {
  readonly name: string;
  readonly #http: UpstreamHttp;
  readonly #defaultTimeoutMs: number;
  readonly #maxTokensField: "max_completion_tokens" | "max_tokens";

  constructor(options: OpenAiProviderOptions) {
    this.name = options.name;
    this.#defaultTimeoutMs = options.defaultTimeoutMs;
    this.#maxTokensField =
      new URL(options.baseUrl).hostname === "api.openai.com" ? "max_completion_tokens" : "max_tokens";
    this.#http = new UpstreamHttp({
      baseUrl: options.baseUrl,
      headers: {
        ...options.headers,
        ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
      },
    });
  }

  async complete(request: ChatRequest): Promise<ChatResult> {
    return callUnderDeadline(this.name, request, this.#defaultTimeoutMs, async (signal) => {
      const body = this.#body(request);
      const completion = (await this.#http.postJson(
        "/chat/completions",
        buildRequest(() => ({ ...body, stream: false })),
        signal,
      )) as WireCompletion;
      if (completion?.error) {
        const code = typeof completion.error.code === "number" ? completion.error.code : undefined;
        throw reportedError(this.name, request.model, code, completion.error.message, false);
      }
      const choice = completion?.choices?.[0];
      if (!choice) throw malformedAnswer(this.name, request.model, "the answer has no choices");
      const toolCalls = (choice.message?.tool_calls ?? []).filter((call) => call.type === "function");
      const refusal = choice.message?.refusal;
      return {
        content: choice.message?.content ?? refusal ?? "",
        model: completion.model || request.model,
        finishReason: choice.finish_reason ?? "stop",
        usage: openAiUsage(completion.usage),
        ...(toolCalls.length > 0 ? { toolCalls } : {}),
        ...(choice.logprobs ? { logprobs: choice.logprobs } : {}),
      };
    });
  }

  async *stream(request: ChatRequest): AsyncIterable<ChatStreamEvent> {
    const deadline = this.#deadline(request);
    try {
      const body = this.#body(request);
      const wire = buildRequest(() => ({ ...body, stream: true, stream_options: { include_usage: true } }));
      let content = "";
      let model = request.model;
      let finishReason: string | undefined;
      let sawDone = false;
      let usage: ChatUsage = { promptTokens: 0, completionTokens: 0 };
      const toolCalls = new ToolCallAssembler();
      for await (const data of this.#http.postEvents("/chat/completions", wire, deadline.signal)) {
        if (data === "[DONE]") {
          sawDone = true;
          break;
        }
        const chunk = parseEvent<WireChunk>(data, this.name, request.model);
        if (chunk.error) {
          const code = typeof chunk.error.code === "number" ? chunk.error.code : undefined;
          throw reportedError(this.name, request.model, code, chunk.error.message, true);
        }
        if (chunk.model) model = chunk.model;
        if (chunk.usage) usage = openAiUsage(chunk.usage);
        const choice = chunk.choices?.[0];
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        const text = choice?.delta?.content;
        if (text) {
          content += text;
          yield { type: "delta", text };
        }
        const deltas = choice?.delta?.tool_calls;
        if (deltas && deltas.length > 0) {
          toolCalls.add(deltas);
          yield { type: "tool_call_delta", deltas };
        }
      }
      if (deadline.signal.aborted) throw new Error("the call was stopped");
      if (!sawDone && finishReason === undefined) {
        throw streamCutOff(this.name, request.model, content.length, "[DONE] or a finish_reason");
      }
      const calls = toolCalls.calls();
      yield {
        type: "done",
        result: {
          content,
          model,
          finishReason: finishReason ?? "stop",
          usage,
          ...(calls.length > 0 ? { toolCalls: calls } : {}),
        },
      };
    } catch (error) {
      throw classifyCall(error, this.name, request, deadline);
    } finally {
      deadline.dispose();
    }
  }

  // https://platform.openai.com/docs/api-reference/embeddings/create
  async embed(request: EmbeddingsRequest): Promise<EmbeddingsResult> {
    return callUnderDeadline(this.name, request, this.#defaultTimeoutMs, async (signal) => {
      const response = (await this.#http.postJson(
        "/embeddings",
        {
          model: request.model,
          input: [...request.input],
          encoding_format: "float",
          ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }),
          ...(request.user === undefined ? {} : { user: request.user }),
        },
        signal,
      )) as {
        data?: ReadonlyArray<{ index: number; embedding: number[] }>;
        model?: string;
        usage?: { prompt_tokens?: number };
      };
      const data = Array.isArray(response?.data) ? response.data : [];
      const vectors = [...data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
      if (vectors.length !== request.input.length || !vectors.every(Array.isArray)) {
        throw malformedAnswer(
          this.name,
          request.model,
          `${vectors.length} embeddings came back for ${request.input.length} inputs`,
        );
      }
      return {
        vectors,
        model: response.model || request.model,
        promptTokens: response.usage?.prompt_tokens ?? 0,
      };
    });
  }

  close(): Promise<void> {
    return this.#http.close();
  }

  #body(request: ChatRequest): Record<string, unknown> {
    return openAiBody(request, { provider: this.name, maxTokensField: this.#maxTokensField });
  }

  #deadline(request: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined }): TimedSignal {
    return timedSignal(request.signal, request.timeoutMs ?? this.#defaultTimeoutMs);
  }
}
