import OpenAI, { APIUserAbortError } from "openai";
import type {
  ChatCompletionChunk,
  ChatCompletionContentPart,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
} from "openai/resources/chat/completions";
import type {
  ChatMessage,
  ChatProvider,
  ChatRequest,
  ChatResult,
  ChatStreamEvent,
  ChatUsage,
} from "../chat-provider.ts";
import { classifyUpstreamError } from "../upstream-error.ts";

export interface OpenRouterProviderOptions {
  readonly apiKey: string;
  readonly baseUrl: string;
  readonly appUrl?: string;
  readonly appName?: string;
  readonly defaultTimeoutMs: number;
  readonly fetch?: typeof globalThis.fetch;
}

// OpenRouter speaks OpenAI's chat-completions dialect, so the official client does the wire work;
// any OpenAI-compatible server (Ollama, vLLM, ...) can stand in through the base URL.
export class OpenRouterProvider implements ChatProvider {
  readonly name = "openrouter" as const;
  readonly #client: OpenAI;
  readonly #defaultTimeoutMs: number;

  constructor(options: OpenRouterProviderOptions) {
    this.#defaultTimeoutMs = options.defaultTimeoutMs;
    this.#client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: options.baseUrl,
      // Retry policy belongs to the service's resilience layer, never to the client.
      maxRetries: 0,
      timeout: options.defaultTimeoutMs,
      defaultHeaders: {
        ...(options.appUrl ? { "HTTP-Referer": options.appUrl } : {}),
        ...(options.appName ? { "X-Title": options.appName } : {}),
      },
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }

  async complete(request: ChatRequest): Promise<ChatResult> {
    const deadline = this.#deadline(request);
    try {
      const body: ChatCompletionCreateParamsNonStreaming = { ...this.#body(request), stream: false };
      const completion = await this.#client.chat.completions.create(body, { signal: deadline.signal });
      const choice = completion.choices[0];
      return {
        content: choice?.message.content ?? "",
        model: completion.model || request.model,
        finishReason: choice?.finish_reason ?? "stop",
        usage: readUsage(completion.usage),
      };
    } catch (error) {
      throw this.#classify(error, request, deadline);
    } finally {
      deadline.dispose();
    }
  }

  async *stream(request: ChatRequest): AsyncIterable<ChatStreamEvent> {
    const deadline = this.#deadline(request);
    try {
      const body: ChatCompletionCreateParamsStreaming = {
        ...this.#body(request),
        stream: true,
        stream_options: { include_usage: true },
      };
      const stream = await this.#client.chat.completions.create(body, { signal: deadline.signal });
      let content = "";
      let model = request.model;
      let finishReason = "stop";
      let usage: ChatUsage = { promptTokens: 0, completionTokens: 0 };
      for await (const chunk of stream) {
        if (chunk.model) model = chunk.model;
        if (chunk.usage) usage = readUsage(chunk.usage);
        const choice: ChatCompletionChunk.Choice | undefined = chunk.choices[0];
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        const text = choice?.delta?.content;
        if (text) {
          content += text;
          yield { type: "delta", text };
        }
      }
      // The client ends an aborted stream quietly; a cut-off answer must not pass for a whole one.
      if (deadline.signal.aborted) throw new APIUserAbortError();
      yield { type: "done", result: { content, model, finishReason, usage } };
    } catch (error) {
      throw this.#classify(error, request, deadline);
    } finally {
      deadline.dispose();
    }
  }

  #classify(error: unknown, request: ChatRequest, deadline: { timedOut: () => boolean }) {
    return classifyUpstreamError(error, {
      provider: this.name,
      model: request.model,
      timedOut: deadline.timedOut(),
    });
  }

  #body(request: ChatRequest) {
    return {
      model: request.model,
      messages: request.messages.map(toWireMessage),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
      // OpenRouter extension: report the call's cost in the usage object.
      usage: { include: true },
    };
  }

  // One deadline for the whole call, streaming included, joined with the caller's own cancellation.
  #deadline(request: ChatRequest) {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), request.timeoutMs ?? this.#defaultTimeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout.signal]) : timeout.signal;
    return {
      signal,
      timedOut: () => timeout.signal.aborted && !request.signal?.aborted,
      dispose: () => clearTimeout(timer),
    };
  }
}

function toWireMessage(message: ChatMessage): ChatCompletionMessageParam {
  if (typeof message.content === "string" || message.role !== "user") {
    const text =
      typeof message.content === "string"
        ? message.content
        : message.content.map((part) => (part.type === "text" ? part.text : "")).join("\n");
    return { role: message.role, content: text };
  }
  const parts: ChatCompletionContentPart[] = message.content.map((part) =>
    part.type === "text"
      ? { type: "text", text: part.text }
      : { type: "image_url", image_url: { url: part.url } },
  );
  return { role: "user", content: parts };
}

interface WireUsage {
  readonly prompt_tokens?: number;
  readonly completion_tokens?: number;
}

function readUsage(usage: WireUsage | null | undefined): ChatUsage {
  const cost = (usage as { cost?: unknown } | null | undefined)?.cost;
  return {
    promptTokens: usage?.prompt_tokens ?? 0,
    completionTokens: usage?.completion_tokens ?? 0,
    ...(typeof cost === "number" && Number.isFinite(cost) ? { reportedCostUsd: cost } : {}),
  };
}
