import { OrchestratorError } from "../../core/errors.ts";
import { type TimedSignal, timedSignal } from "../../core/timed-signal.ts";
import type { ChatProvider, ChatRequest, ChatResult, ChatStreamEvent, ToolCall } from "../chat-provider.ts";
import {
  callUnderDeadline,
  classifyCall,
  parseEvent,
  reportedError,
  streamCutOff,
} from "../provider-call.ts";
import { malformedAnswer } from "../upstream-error.ts";
import { UpstreamHttp } from "../upstream-http.ts";
import {
  finishReason,
  type GeminiPart,
  type GeminiUsage,
  geminiBody,
  geminiUsage,
  toolCallOf,
} from "./gemini-wire.ts";

export interface GeminiChatOptions {
  readonly name: string;
  // https://generativelanguage.googleapis.com/v1beta
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly defaultTimeoutMs: number;
}

interface WireResponse {
  readonly candidates?: ReadonlyArray<{
    readonly content?: { readonly parts?: readonly GeminiPart[] };
    readonly finishReason?: string;
  }>;
  readonly promptFeedback?: { readonly blockReason?: string };
  readonly usageMetadata?: GeminiUsage;
  readonly modelVersion?: string;
  readonly error?: { readonly code?: number; readonly message?: string };
}

// Chat on Gemini through the Gemini API's own protocol: `:generateContent`, and `:streamGenerateContent?alt=sse`
// whose events are each a whole GenerateContentResponse carrying the next piece
// (https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent). The key travels in the
// x-goog-api-key header (https://ai.google.dev/gemini-api/docs/api-key), never in a URL.
export class GeminiChatProvider implements ChatProvider {
  readonly name: string;
  readonly #http: UpstreamHttp;
  readonly #defaultTimeoutMs: number;

  constructor(options: GeminiChatOptions) {
    this.name = options.name;
    this.#defaultTimeoutMs = options.defaultTimeoutMs;
    this.#http = new UpstreamHttp({
      baseUrl: options.baseUrl,
      headers: { ...options.headers, ...(options.apiKey ? { "x-goog-api-key": options.apiKey } : {}) },
    });
  }

  async complete(request: ChatRequest): Promise<ChatResult> {
    return callUnderDeadline(this.name, request, this.#defaultTimeoutMs, async (signal) => {
      const body = geminiBody(request, this.name);
      const response = (await this.#http.postJson(
        `/models/${encodeURIComponent(request.model)}:generateContent`,
        body,
        signal,
      )) as WireResponse;
      if (response?.error) {
        throw reportedError(this.name, request.model, response.error.code, response.error.message, false);
      }
      this.#refuseBlocked(response, request.model);
      const candidate = response?.candidates?.[0];
      if (!candidate) throw malformedAnswer(this.name, request.model, "the answer has no candidates");
      const parts = candidate.content?.parts ?? [];
      const toolCalls = parts.filter((part) => part.functionCall).map(toolCallOf);
      return {
        content: answerText(parts),
        model: response.modelVersion || request.model,
        finishReason: finishReason(candidate.finishReason, toolCalls.length > 0),
        usage: geminiUsage(response.usageMetadata),
        ...(toolCalls.length > 0 ? { toolCalls } : {}),
      };
    });
  }

  async *stream(request: ChatRequest): AsyncIterable<ChatStreamEvent> {
    const deadline = this.#deadline(request);
    try {
      const body = geminiBody(request, this.name);
      let content = "";
      let model = request.model;
      let reason: string | undefined;
      let usage: GeminiUsage | undefined;
      const toolCalls: ToolCall[] = [];
      const path = `/models/${encodeURIComponent(request.model)}:streamGenerateContent?alt=sse`;
      for await (const data of this.#http.postEvents(path, body, deadline.signal)) {
        const chunk = parseEvent<WireResponse>(data, this.name, request.model);
        if (chunk.error) {
          throw reportedError(this.name, request.model, chunk.error.code, chunk.error.message, true);
        }
        this.#refuseBlocked(chunk, request.model);
        if (chunk.modelVersion) model = chunk.modelVersion;
        if (chunk.usageMetadata) usage = chunk.usageMetadata;
        const candidate = chunk.candidates?.[0];
        if (candidate?.finishReason) reason = candidate.finishReason;
        for (const part of candidate?.content?.parts ?? []) {
          if (part.functionCall) {
            // Gemini sends each call whole: one delta carries it all.
            const call = toolCallOf(part, toolCalls.length);
            const index = toolCalls.length;
            toolCalls.push(call);
            yield {
              type: "tool_call_delta",
              deltas: [{ index, id: call.id, type: "function", function: { ...call.function } }],
            };
          } else if (part.text && !part.thought) {
            content += part.text;
            yield { type: "delta", text: part.text };
          }
        }
      }
      if (deadline.signal.aborted) throw new Error("the call was stopped");
      if (reason === undefined)
        throw streamCutOff(this.name, request.model, content.length, "a finishReason");
      yield {
        type: "done",
        result: {
          content,
          model,
          finishReason: finishReason(reason, toolCalls.length > 0),
          usage: geminiUsage(usage),
          ...(toolCalls.length > 0 ? { toolCalls } : {}),
        },
      };
    } catch (error) {
      throw classifyCall(error, this.name, request, deadline);
    } finally {
      deadline.dispose();
    }
  }

  close(): Promise<void> {
    return this.#http.close();
  }

  // A prompt Gemini refused to answer at all: rephrasing, not retrying, is what helps.
  #refuseBlocked(response: WireResponse, model: string): void {
    const blocked = response?.promptFeedback?.blockReason;
    if (!blocked) return;
    throw new OrchestratorError({
      kind: "persistent",
      code: "generation_refused",
      status: 422,
      model,
      message: `${this.name} model ${model} refused the prompt (${blocked})`,
    });
  }

  #deadline(request: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined }): TimedSignal {
    return timedSignal(request.signal, request.timeoutMs ?? this.#defaultTimeoutMs);
  }
}

// The answer's text: thought summaries are reasoning, not answer.
function answerText(parts: readonly GeminiPart[]): string {
  return parts
    .filter((part) => typeof part.text === "string" && !part.thought)
    .map((part) => part.text)
    .join("");
}
