import { type TimedSignal, timedSignal } from "../../core/timed-signal.ts";
import type { ChatProvider, ChatRequest, ChatResult, ChatStreamEvent, ToolCall } from "../chat-provider.ts";
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
import { UpstreamHttp } from "../upstream-http.ts";
import { type AnthropicUsage, anthropicBody, anthropicUsage, finishReason } from "./anthropic-wire.ts";

export interface AnthropicProviderOptions {
  readonly name: string;
  // Without /v1, as Anthropic's SDKs take ANTHROPIC_BASE_URL.
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly defaultTimeoutMs: number;
}

// https://docs.anthropic.com/en/api/versioning
const apiVersion = "2023-06-01";

interface WireBlock {
  readonly type: string;
  readonly text?: string;
  readonly id?: string;
  readonly name?: string;
  readonly input?: unknown;
}

interface WireMessage {
  readonly model?: string;
  readonly content?: readonly WireBlock[];
  readonly stop_reason?: string | null;
  readonly usage?: AnthropicUsage;
}

type StreamEvent =
  | { type: "message_start"; message: WireMessage }
  | { type: "content_block_start"; index: number; content_block: WireBlock }
  | {
      type: "content_block_delta";
      index: number;
      delta: { type: string; text?: string; partial_json?: string };
    }
  | { type: "content_block_stop"; index: number }
  | { type: "message_delta"; delta: { stop_reason?: string | null }; usage?: AnthropicUsage }
  | { type: "message_stop" }
  | { type: "ping" }
  | { type: "error"; error?: { type?: string; message?: string } };

// Anthropic's errors name a type; the HTTP status each stands for (https://docs.anthropic.com/en/api/errors).
const errorStatus: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 529,
};

// Claude through Anthropic's own Messages API: `x-api-key` and `anthropic-version` headers, answers as
// content blocks, streams as named server-sent events
// (https://docs.anthropic.com/en/docs/build-with-claude/streaming).
export class AnthropicProvider implements ChatProvider {
  readonly name: string;
  readonly #http: UpstreamHttp;
  readonly #defaultTimeoutMs: number;

  constructor(options: AnthropicProviderOptions) {
    this.name = options.name;
    this.#defaultTimeoutMs = options.defaultTimeoutMs;
    this.#http = new UpstreamHttp({
      baseUrl: options.baseUrl,
      headers: {
        ...options.headers,
        "anthropic-version": apiVersion,
        ...(options.apiKey ? { "x-api-key": options.apiKey } : {}),
      },
    });
  }

  async complete(request: ChatRequest): Promise<ChatResult> {
    return callUnderDeadline(this.name, request, this.#defaultTimeoutMs, async (signal) => {
      const body = anthropicBody(request, this.name);
      const message = (await this.#http.postJson(
        "/v1/messages",
        { ...body, stream: false },
        signal,
      )) as WireMessage & { type?: string; error?: { type?: string; message?: string } };
      if (message?.type === "error") throw this.#reported(message.error, request.model, false);
      if (!Array.isArray(message?.content)) {
        throw malformedAnswer(this.name, request.model, "the answer has no content blocks");
      }
      const text = message.content
        .filter((block) => block.type === "text")
        .map((block) => block.text ?? "")
        .join("");
      const toolCalls: ToolCall[] = message.content
        .filter((block) => block.type === "tool_use")
        .map((block) => ({
          id: block.id ?? "",
          type: "function",
          function: { name: block.name ?? "", arguments: JSON.stringify(block.input ?? {}) },
        }));
      return {
        content: text,
        model: message.model || request.model,
        finishReason: finishReason(message.stop_reason),
        usage: anthropicUsage(message.usage),
        ...(toolCalls.length > 0 ? { toolCalls } : {}),
      };
    });
  }

  async *stream(request: ChatRequest): AsyncIterable<ChatStreamEvent> {
    const deadline = this.#deadline(request);
    try {
      const body = anthropicBody(request, this.name);
      let content = "";
      let model = request.model;
      let stopReason: string | null | undefined;
      let usage: AnthropicUsage = {};
      let stopped = false;
      const toolCalls = new ToolCallAssembler();
      // Content block index → the tool call's index among the answer's tool calls.
      const toolIndex = new Map<number, number>();
      for await (const data of this.#http.postEvents(
        "/v1/messages",
        { ...body, stream: true },
        deadline.signal,
      )) {
        const event = parseEvent<StreamEvent>(data, this.name, request.model);
        switch (event.type) {
          case "message_start":
            if (event.message.model) model = event.message.model;
            usage = { ...usage, ...event.message.usage };
            break;
          case "content_block_start":
            if (event.content_block.type === "tool_use") {
              const index = toolIndex.size;
              toolIndex.set(event.index, index);
              const delta: ToolCallDelta = {
                index,
                id: event.content_block.id ?? "",
                type: "function",
                function: { name: event.content_block.name ?? "", arguments: "" },
              };
              toolCalls.add([delta]);
              yield { type: "tool_call_delta", deltas: [delta] };
            } else if (event.content_block.type === "text" && event.content_block.text) {
              content += event.content_block.text;
              yield { type: "delta", text: event.content_block.text };
            }
            break;
          case "content_block_delta":
            if (event.delta.type === "text_delta" && event.delta.text) {
              content += event.delta.text;
              yield { type: "delta", text: event.delta.text };
            } else if (event.delta.type === "input_json_delta" && event.delta.partial_json) {
              const index = toolIndex.get(event.index);
              if (index === undefined) break;
              const delta: ToolCallDelta = { index, function: { arguments: event.delta.partial_json } };
              toolCalls.add([delta]);
              yield { type: "tool_call_delta", deltas: [delta] };
            }
            // thinking_delta and signature_delta: reasoning the service does not pass on.
            break;
          case "message_delta":
            if (event.delta.stop_reason !== undefined) stopReason = event.delta.stop_reason;
            // Cumulative counts: the last one is the whole call's.
            usage = { ...usage, ...definedOnly(event.usage) };
            break;
          case "message_stop":
            stopped = true;
            break;
          case "error":
            throw this.#reported(event.error, request.model, true);
          default:
            // ping, content_block_stop, and event types added later.
            break;
        }
        if (stopped) break;
      }
      if (deadline.signal.aborted) throw new Error("the call was stopped");
      if (!stopped) throw streamCutOff(this.name, request.model, content.length, "message_stop");
      const calls = toolCalls.calls();
      yield {
        type: "done",
        result: {
          content,
          model,
          finishReason: finishReason(stopReason),
          usage: anthropicUsage(usage),
          ...(calls.length > 0 ? { toolCalls: calls } : {}),
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

  #reported(error: { type?: string; message?: string } | undefined, model: string, midStream: boolean) {
    return reportedError(this.name, model, errorStatus[error?.type ?? ""], error?.message, midStream);
  }

  #deadline(request: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined }): TimedSignal {
    return timedSignal(request.signal, request.timeoutMs ?? this.#defaultTimeoutMs);
  }
}

function definedOnly(usage: AnthropicUsage | undefined): AnthropicUsage {
  return Object.fromEntries(Object.entries(usage ?? {}).filter(([, value]) => value != null));
}
