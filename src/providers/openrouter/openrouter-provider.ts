import OpenAI, { APIUserAbortError } from "openai";
import type {
  ChatCompletionAssistantMessageParam,
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
  ContentPart,
  ToolCall,
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
      const toolCalls = (choice?.message.tool_calls ?? []).filter((call) => call.type === "function");
      return {
        content: choice?.message.content ?? "",
        model: completion.model || request.model,
        finishReason: choice?.finish_reason ?? "stop",
        usage: readUsage(completion.usage),
        ...(toolCalls.length > 0 ? { toolCalls } : {}),
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
      const toolCalls = new ToolCallAssembler();
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
        const toolDeltas = choice?.delta?.tool_calls;
        if (toolDeltas && toolDeltas.length > 0) {
          toolCalls.add(toolDeltas);
          yield { type: "tool_call_delta", deltas: toolDeltas };
        }
      }
      // The client ends an aborted stream quietly; a cut-off answer must not pass for a whole one.
      if (deadline.signal.aborted) throw new APIUserAbortError();
      const calls = toolCalls.calls();
      yield {
        type: "done",
        result: { content, model, finishReason, usage, ...(calls.length > 0 ? { toolCalls: calls } : {}) },
      };
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
      ...(request.responseFormat === undefined ? {} : { response_format: request.responseFormat as never }),
      ...(request.tools === undefined ? {} : { tools: request.tools as never }),
      ...(request.toolChoice === undefined ? {} : { tool_choice: request.toolChoice as never }),
      ...(request.user === undefined ? {} : { user: request.user }),
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
  const name = message.name ? { name: message.name } : {};
  switch (message.role) {
    case "tool":
      return { role: "tool", content: plainText(message), tool_call_id: message.toolCallId ?? "" };
    case "function":
      return { role: "function", name: message.name ?? "", content: plainText(message) };
    case "system":
      return { role: "system", content: plainText(message), ...name };
    case "assistant": {
      const toolCalls = message.toolCalls?.map((call) => ({ ...call, function: { ...call.function } }));
      const text = plainText(message);
      const hasRefusal =
        typeof message.content !== "string" && message.content.some((p) => p.type === "refusal");
      // A turn that only called tools has no content, as OpenAI sends it: null, not "".
      const content = hasRefusal
        ? assistantParts(message.content)
        : text === "" && (toolCalls || message.functionCall)
          ? null
          : text;
      return {
        role: "assistant",
        content,
        ...name,
        ...(toolCalls ? { tool_calls: toolCalls } : {}),
        ...(message.functionCall ? { function_call: { ...message.functionCall } } : {}),
      };
    }
    case "user":
      if (typeof message.content === "string") return { role: "user", content: message.content, ...name };
      return { role: "user", content: message.content.flatMap(userPart), ...name };
  }
}

function userPart(part: ContentPart): ChatCompletionContentPart[] {
  switch (part.type) {
    case "text":
      return [{ type: "text", text: part.text }];
    case "image":
      return [
        {
          type: "image_url",
          image_url: {
            url: part.url,
            ...(part.detail ? { detail: part.detail as "auto" | "low" | "high" } : {}),
          },
        },
      ];
    case "file":
      return [
        {
          type: "file",
          file: {
            ...(part.filename === undefined ? {} : { filename: part.filename }),
            ...(part.fileData === undefined ? {} : { file_data: part.fileData }),
            ...(part.fileId === undefined ? {} : { file_id: part.fileId }),
          },
        },
      ];
    case "audio":
      return [
        { type: "input_audio", input_audio: { data: part.data, format: part.format as "wav" | "mp3" } },
      ];
    case "refusal":
      return [{ type: "text", text: part.refusal }];
  }
}

function assistantParts(content: ChatMessage["content"]): ChatCompletionAssistantMessageParam["content"] {
  if (typeof content === "string") return content;
  return content.flatMap(
    (part): Exclude<ChatCompletionAssistantMessageParam["content"], string | null | undefined> => {
      if (part.type === "refusal") return [{ type: "refusal", refusal: part.refusal }];
      return part.type === "text" ? [{ type: "text", text: part.text }] : [];
    },
  );
}

function plainText(message: ChatMessage): string {
  return typeof message.content === "string"
    ? message.content
    : message.content.map((part) => (part.type === "text" ? part.text : "")).join("\n");
}

// Tool calls arrive in fragments keyed by index: the first carries id and name, later ones more arguments.
class ToolCallAssembler {
  readonly #byIndex = new Map<number, { id: string; name: string; arguments: string }>();

  add(deltas: ReadonlyArray<ChatCompletionChunk.Choice.Delta.ToolCall>): void {
    for (const delta of deltas) {
      const current = this.#byIndex.get(delta.index) ?? { id: "", name: "", arguments: "" };
      if (delta.id) current.id = delta.id;
      if (delta.function?.name) current.name += delta.function.name;
      if (delta.function?.arguments) current.arguments += delta.function.arguments;
      this.#byIndex.set(delta.index, current);
    }
  }

  calls(): ToolCall[] {
    return [...this.#byIndex.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, call]) => ({
        id: call.id,
        type: "function",
        function: { name: call.name, arguments: call.arguments },
      }));
  }
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
