import type {
  ChatCompletionAssistantMessageParam,
  ChatCompletionContentPart,
  ChatCompletionContentPartText,
  ChatCompletionMessageParam,
} from "openai/resources/chat/completions";
import type {
  CacheControl,
  ChatMessage,
  ChatRequest,
  ContentPart,
  ReasoningOptions,
} from "../chat-provider.ts";

// The chat-completions body for a request, without `stream` (the caller sets it).
export function chatBody(request: ChatRequest) {
  return {
    // Validated at the edge against the documented parameters; the fields below always win.
    ...request.upstreamParams,
    model: request.model,
    messages: cachesExplicitly(request.model)
      ? request.messages.map(toWireMessage)
      : request.messages.map((message) => toWireMessage(withoutMessageBreakpoint(message))),
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

export function toWireMessage(message: ChatMessage): ChatCompletionMessageParam {
  const name = message.name ? { name: message.name } : {};
  // A prompt-cache breakpoint needs the content as parts, the only place `cache_control` can sit.
  const cached = hasBreakpoint(message);
  switch (message.role) {
    case "tool":
      return {
        role: "tool",
        content: cached ? cachedTextParts(message) : plainText(message),
        tool_call_id: message.toolCallId ?? "",
      };
    case "function":
      return { role: "function", name: message.name ?? "", content: plainText(message) };
    case "system":
      return { role: "system", content: cached ? cachedTextParts(message) : plainText(message), ...name };
    case "assistant": {
      const toolCalls = message.toolCalls?.map((call) => ({ ...call, function: { ...call.function } }));
      const text = plainText(message);
      const hasRefusal =
        typeof message.content !== "string" && message.content.some((p) => p.type === "refusal");
      // A turn that only called tools has no content, as OpenAI sends it: null, not "".
      const content = hasRefusal
        ? assistantParts(message)
        : text === "" && (toolCalls || message.functionCall)
          ? null
          : cached
            ? cachedTextParts(message)
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
      if (typeof message.content === "string" && !cached) {
        return { role: "user", content: message.content, ...name };
      }
      return { role: "user", content: withMessageBreakpoint(userParts(message.content), message), ...name };
  }
}

// OpenRouter passes `cache_control` on text parts to the providers that cache explicitly (Anthropic's and
// Gemini's models) and drops it for the others, which cache a repeated prefix on their own
// (https://openrouter.ai/docs/features/prompt-caching). A breakpoint a client placed on a part is sent as
// placed, for every model; one the service places after a whole message (a session's stable prefix) only for
// the models that need it, so every other model, and an OpenAI-compatible server behind this provider, gets
// the plain string content it always got.
type WireTextPart = ChatCompletionContentPartText & { cache_control?: WireCacheControl };
interface WireCacheControl {
  readonly type: "ephemeral";
  readonly ttl?: "5m" | "1h";
}

export function wireCacheControl(control: CacheControl): WireCacheControl {
  return { type: control.type, ...(control.ttl === undefined ? {} : { ttl: control.ttl }) };
}

// Model ids whose upstream caches only where a breakpoint says so.
export function cachesExplicitly(model: string): boolean {
  return model.startsWith("anthropic/") || model.startsWith("google/");
}

function withoutMessageBreakpoint(message: ChatMessage): ChatMessage {
  if (!message.cacheControl) return message;
  const { cacheControl: _dropped, ...rest } = message;
  return rest;
}

function hasBreakpoint(message: ChatMessage): boolean {
  if (message.cacheControl) return true;
  return (
    typeof message.content !== "string" &&
    message.content.some((part) => part.type === "text" && part.cacheControl !== undefined)
  );
}

// The message's text as parts, each breakpoint where it was placed and the message's own after the last.
function cachedTextParts(message: ChatMessage): WireTextPart[] {
  const parts: WireTextPart[] =
    typeof message.content === "string"
      ? [{ type: "text", text: message.content }]
      : message.content.flatMap((part) => (part.type === "text" ? [textPart(part)] : []));
  return withMessageBreakpoint(parts, message);
}

function textPart(part: Extract<ContentPart, { type: "text" }>): WireTextPart {
  return {
    type: "text",
    text: part.text,
    ...(part.cacheControl ? { cache_control: wireCacheControl(part.cacheControl) } : {}),
  };
}

// A breakpoint after the whole message is one on its last text part (a message with no text has nowhere
// to carry it, and caches nothing of its own).
function withMessageBreakpoint<T extends { type: string }>(parts: T[], message: ChatMessage): T[] {
  const control = message.cacheControl;
  if (!control) return parts;
  const last = parts.findLastIndex((part) => part.type === "text");
  if (last < 0) return parts;
  return parts.map((part, index) =>
    index === last ? { ...part, cache_control: wireCacheControl(control) } : part,
  );
}

function userParts(content: ChatMessage["content"]): ChatCompletionContentPart[] {
  return typeof content === "string" ? [{ type: "text", text: content }] : content.flatMap(userPart);
}

function userPart(part: ContentPart): ChatCompletionContentPart[] {
  switch (part.type) {
    case "text":
      return [textPart(part)];
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

function assistantParts(message: ChatMessage): ChatCompletionAssistantMessageParam["content"] {
  const { content } = message;
  if (typeof content === "string") return content;
  const parts = content.flatMap(
    (part): Exclude<ChatCompletionAssistantMessageParam["content"], string | null | undefined> => {
      if (part.type === "refusal") return [{ type: "refusal", refusal: part.refusal }];
      return part.type === "text" ? [textPart(part)] : [];
    },
  );
  return withMessageBreakpoint(parts, message);
}

function plainText(message: ChatMessage): string {
  return typeof message.content === "string"
    ? message.content
    : message.content.map((part) => (part.type === "text" ? part.text : "")).join("\n");
}

// OpenRouter's `reasoning` object: effort or max_tokens, and exclude.
function wireReasoning(reasoning: ReasoningOptions): Record<string, unknown> {
  return {
    ...(reasoning.effort === undefined ? {} : { effort: reasoning.effort }),
    ...(reasoning.maxTokens === undefined ? {} : { max_tokens: reasoning.maxTokens }),
    ...(reasoning.exclude === undefined ? {} : { exclude: reasoning.exclude }),
  };
}
