import type {
  ChatCompletion,
  ChatCompletionAssistantMessageParam,
  ChatCompletionChunk,
  ChatCompletionContentPart,
  ChatCompletionMessageParam,
} from "openai/resources/chat/completions";
import { OrchestratorError } from "../../core/errors.ts";
import { scrubSecrets } from "../../core/secrets.ts";
import { type TimedSignal, timedSignal } from "../../core/timed-signal.ts";
import type {
  ChatMessage,
  ChatProvider,
  ChatRequest,
  ChatResult,
  ChatStreamEvent,
  ChatUsage,
  ContentPart,
  ReasoningOptions,
  ToolCall,
} from "../chat-provider.ts";
import type { EmbeddingsProvider, EmbeddingsRequest, EmbeddingsResult } from "../embeddings-provider.ts";
import type { MediaProvider, MediaRequest, MediaResult } from "../media-provider.ts";
import { classifyUpstreamError, errorFromHttpStatus, malformedAnswer } from "../upstream-error.ts";
import { buildRequest, UpstreamHttp } from "../upstream-http.ts";

export interface OpenRouterProviderOptions {
  readonly apiKey: string;
  readonly baseUrl: string;
  readonly appUrl?: string;
  readonly appName?: string;
  readonly defaultTimeoutMs: number;
}

// OpenRouter's whole list is a few hundred kilobytes; anything near this is not a model list.
export const maxModelListBytes = 16 * 1024 * 1024;

// OpenRouter speaks OpenAI's chat-completions dialect (https://openrouter.ai/docs/api-reference/overview);
// any OpenAI-compatible server (Ollama, vLLM, ...) can stand in through the base URL. The wire work is a
// shared keep-alive pool to the upstream's origin (see upstream-http.ts), not a client SDK: this sits on
// every call, so it must cost next to nothing.
export class OpenRouterProvider implements ChatProvider, EmbeddingsProvider, MediaProvider {
  readonly name = "openrouter" as const;
  readonly #http: UpstreamHttp;
  readonly #defaultTimeoutMs: number;

  constructor(options: OpenRouterProviderOptions) {
    this.#defaultTimeoutMs = options.defaultTimeoutMs;
    this.#http = new UpstreamHttp({
      baseUrl: options.baseUrl,
      headers: {
        authorization: `Bearer ${options.apiKey}`,
        // App attribution (https://openrouter.ai/docs/app-attribution): X-OpenRouter-Title replaces X-Title.
        ...(options.appUrl ? { "http-referer": options.appUrl } : {}),
        ...(options.appName ? { "x-openrouter-title": options.appName } : {}),
      },
    });
  }

  async complete(request: ChatRequest): Promise<ChatResult> {
    const deadline = this.#deadline(request);
    try {
      const completion = (await this.#http.postJson(
        "/chat/completions",
        buildRequest(() => ({ ...this.#body(request), stream: false })),
        deadline.signal,
      )) as ChatCompletion & { error?: unknown };
      // OpenRouter may answer 200 with an error object and no choices (the provider failed after the
      // request was accepted): that is the upstream's error, not an empty answer.
      const failure = completion?.error;
      if (failure) throw this.#bodyError(failure, request.model);
      if (!Array.isArray(completion?.choices) || completion.choices.length === 0) {
        throw malformed(request.model, "the answer has no choices");
      }
      const choice = completion.choices[0];
      const toolCalls = (choice?.message?.tool_calls ?? []).filter((call) => call.type === "function");
      return {
        content: choice?.message?.content ?? "",
        model: completion.model || request.model,
        finishReason: choice?.finish_reason ?? "stop",
        usage: readUsage(completion.usage),
        ...(toolCalls.length > 0 ? { toolCalls } : {}),
        ...(choice?.logprobs ? { logprobs: choice.logprobs } : {}),
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
      const body = buildRequest(() => ({
        ...this.#body(request),
        stream: true,
        stream_options: { include_usage: true },
      }));
      let content = "";
      let model = request.model;
      let finishReason: string | undefined;
      let sawDone = false;
      let usage: ChatUsage = { promptTokens: 0, completionTokens: 0 };
      const toolCalls = new ToolCallAssembler();
      // The raw event stream, so an answer cut off before both [DONE] and a finish_reason is told apart
      // from a complete one.
      for await (const data of this.#http.postEvents("/chat/completions", body, deadline.signal)) {
        if (data === "[DONE]") {
          sawDone = true;
          break;
        }
        const chunk = this.#parseChunk(data, request.model);
        if (chunk.model) model = chunk.model;
        if (chunk.usage) usage = readUsage(chunk.usage);
        const choice: ChatCompletionChunk.Choice | undefined = chunk.choices?.[0];
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
      // A cut-off answer must not pass for a whole one.
      if (deadline.signal.aborted) throw new Error("the call was stopped");
      if (!sawDone && finishReason === undefined) throw truncated(request.model, content.length);
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
      throw this.#classify(error, request, deadline);
    } finally {
      deadline.dispose();
    }
  }

  #parseChunk(data: string, model: string): ChatCompletionChunk & { error?: unknown } {
    let chunk: ChatCompletionChunk & { error?: unknown };
    try {
      chunk = JSON.parse(data) as ChatCompletionChunk & { error?: unknown };
    } catch {
      throw malformed(model, "a stream event is not JSON");
    }
    // An error event inside a stream that had already started (OpenRouter sends finish_reason "error").
    if (chunk.error) throw this.#bodyError(chunk.error, model, "mid-stream");
    return chunk;
  }

  // An error object in a 200 body or a stream event: its code is an HTTP status when it is one.
  #bodyError(failure: unknown, model: string, when?: "mid-stream"): OrchestratorError {
    const { code, message } = (failure ?? {}) as { code?: unknown; message?: unknown };
    const reason = typeof message === "string" && message ? scrubSecrets(message) : "no reason given";
    const status = typeof code === "number" && code >= 400 && code <= 599 ? code : 502;
    const error = errorFromHttpStatus({ status, reason, where: `${this.name} model ${model}`, model });
    if (when !== "mid-stream") return error;
    return new OrchestratorError({
      kind: "transient",
      code: "upstream_stream_error",
      status: 502,
      model,
      upstreamStatus: status,
      message: `${this.name} model ${model} failed mid-stream: ${reason}`,
      cause: error,
    });
  }

  // OpenRouter's embeddings endpoint speaks OpenAI's format too
  // (https://openrouter.ai/docs/api-reference/embeddings). Vectors are asked for as floats; the API route
  // encodes them as base64 itself when its client asks for that.
  async embed(request: EmbeddingsRequest): Promise<EmbeddingsResult> {
    const deadline = this.#deadline(request);
    try {
      const response = (await this.#http.postJson(
        "/embeddings",
        {
          model: request.model,
          input: [...request.input],
          encoding_format: "float",
          ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }),
          ...(request.user === undefined ? {} : { user: request.user }),
        },
        deadline.signal,
      )) as WireEmbeddings;
      if (response?.error) throw this.#bodyError(response.error, request.model);
      const data = Array.isArray(response?.data) ? response.data : [];
      const vectors = [...data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
      if (vectors.length !== request.input.length || !vectors.every(Array.isArray)) {
        throw malformed(
          request.model,
          `${vectors.length} embeddings came back for ${request.input.length} inputs`,
        );
      }
      const cost = response.usage?.cost;
      return {
        vectors,
        model: response.model || request.model,
        promptTokens: response.usage?.prompt_tokens ?? 0,
        ...(typeof cost === "number" && Number.isFinite(cost) ? { reportedCostUsd: cost } : {}),
      };
    } catch (error) {
      throw this.#classify(error, request, deadline);
    } finally {
      deadline.dispose();
    }
  }

  // GET /models: every model the upstream serves, with prices, context windows and retirement dates
  // (https://openrouter.ai/docs/api-reference/list-available-models).
  // The list is an input like any other: past maxModelListBytes it is dropped unread, never held whole.
  listModels(signal: AbortSignal): Promise<unknown> {
    return this.#http.getJson("/models", signal, maxModelListBytes);
  }

  // Images through chat completions with output modalities ["image", "text"]: the image comes back in
  // message.images as a base64 data URL (https://openrouter.ai/docs/features/multimodal/image-generation).
  async image(request: MediaRequest): Promise<MediaResult> {
    const deadline = this.#deadline(request);
    try {
      const completion = (await this.#http.postJson(
        "/chat/completions",
        {
          model: request.model,
          messages: [{ role: "user", content: request.prompt }],
          modalities: ["image", "text"],
          stream: false,
        },
        deadline.signal,
      )) as WireImageCompletion;
      if (completion?.error) throw this.#bodyError(completion.error, request.model);
      const choice = completion?.choices?.[0];
      const url = choice?.message?.images?.find((image) => image.image_url?.url)?.image_url?.url;
      if (!url) throw noImage(request.model, choice?.message?.content, choice?.finish_reason);
      const image = fromDataUrl(url);
      if (!image) throw malformed(request.model, "the image is not a base64 data URL");
      const { reportedCostUsd } = readUsage(completion.usage);
      return {
        ...image,
        model: completion.model || request.model,
        units: 1,
        simulated: false,
        ...(reportedCostUsd === undefined ? {} : { reportedCostUsd }),
      };
    } catch (error) {
      throw this.#classify(error, request, deadline);
    } finally {
      deadline.dispose();
    }
  }

  // Videos are Google AI's (Veo): the registry never sends a video role here.
  async video(request: MediaRequest): Promise<MediaResult> {
    throw new OrchestratorError({
      kind: "persistent",
      code: "provider_not_configured",
      status: 502,
      model: request.model,
      message: `openrouter does not generate videos (${request.model}); video roles run on google_ai`,
    });
  }

  // Whatever the call threw: when its own signal ended it, the reason is the deadline or the caller.
  #classify(
    error: unknown,
    request: { model: string; signal?: AbortSignal | undefined },
    deadline: { timedOut: () => boolean },
  ) {
    const stopped = !OrchestratorError.isInstance(error) && request.signal?.aborted === true;
    return classifyUpstreamError(error, {
      provider: this.name,
      model: request.model,
      timedOut: !OrchestratorError.isInstance(error) && deadline.timedOut(),
      cancelled: stopped,
    });
  }

  #body(request: ChatRequest) {
    return {
      // Validated at the edge against the documented parameters; the fields below always win.
      ...request.upstreamParams,
      model: request.model,
      messages: request.messages.map(toWireMessage),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
      ...(request.responseFormat === undefined ? {} : { response_format: request.responseFormat }),
      ...(request.tools === undefined ? {} : { tools: request.tools }),
      ...(request.toolChoice === undefined ? {} : { tool_choice: request.toolChoice }),
      ...(request.user === undefined ? {} : { user: request.user }),
      ...(request.stop === undefined ? {} : { stop: [...request.stop] }),
      ...(request.reasoning === undefined ? {} : { reasoning: wireReasoning(request.reasoning) }),
    };
  }

  // One deadline for the whole call, streaming included, joined with the caller's own cancellation.
  #deadline(request: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined }): TimedSignal {
    return timedSignal(request.signal, request.timeoutMs ?? this.#defaultTimeoutMs);
  }
}

interface WireImageCompletion {
  readonly model?: string;
  readonly choices?: ReadonlyArray<{
    readonly finish_reason?: string | null;
    readonly message?: {
      readonly content?: string | null;
      readonly images?: ReadonlyArray<{ readonly image_url?: { readonly url?: string } }>;
    };
  }>;
  readonly usage?: WireUsage;
  readonly error?: unknown;
}

function fromDataUrl(url: string): { data: Uint8Array; contentType: string } | undefined {
  const match = /^data:([\w.+-]+\/[\w.+-]+);base64,(.+)$/s.exec(url);
  if (!match?.[1] || !match[2]) return undefined;
  return { contentType: match[1], data: Buffer.from(match[2], "base64") };
}

// The model answered without an image (a refusal in words, or a filter): asking again will not help.
function noImage(model: string, text: string | null | undefined, finishReason: string | null | undefined) {
  const said = text?.trim() ? `: ${text.trim().slice(0, 300)}` : "";
  return new OrchestratorError({
    kind: "persistent",
    code: "generation_refused",
    status: 422,
    model,
    message: `openrouter model ${model} made no image for this prompt (${finishReason ?? "no reason given"})${said}`,
  });
}

interface WireEmbeddings {
  readonly data?: ReadonlyArray<{ readonly index: number; readonly embedding: number[] }>;
  readonly model?: string;
  readonly usage?: { readonly prompt_tokens?: number; readonly cost?: unknown };
  readonly error?: unknown;
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
  readonly completion_tokens_details?: { readonly reasoning_tokens?: number | null } | null;
}

// OpenRouter's `reasoning` object: effort or max_tokens, and exclude.
function wireReasoning(reasoning: ReasoningOptions): Record<string, unknown> {
  return {
    ...(reasoning.effort === undefined ? {} : { effort: reasoning.effort }),
    ...(reasoning.maxTokens === undefined ? {} : { max_tokens: reasoning.maxTokens }),
    ...(reasoning.exclude === undefined ? {} : { exclude: reasoning.exclude }),
  };
}

function readUsage(usage: WireUsage | null | undefined): ChatUsage {
  const cost = (usage as { cost?: unknown } | null | undefined)?.cost;
  const reasoning = usage?.completion_tokens_details?.reasoning_tokens;
  return {
    promptTokens: usage?.prompt_tokens ?? 0,
    completionTokens: usage?.completion_tokens ?? 0,
    ...(typeof reasoning === "number" && reasoning > 0 ? { reasoningTokens: reasoning } : {}),
    ...(typeof cost === "number" && Number.isFinite(cost) ? { reportedCostUsd: cost } : {}),
  };
}

function malformed(model: string, what: string): OrchestratorError {
  return malformedAnswer("openrouter", model, what);
}

function truncated(model: string, received: number): OrchestratorError {
  return new OrchestratorError({
    kind: "transient",
    code: "upstream_truncated",
    status: 502,
    model,
    message: `openrouter model ${model} ended its stream after ${received} characters without [DONE] or a finish_reason: the answer was cut off`,
  });
}
