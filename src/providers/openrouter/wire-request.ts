import type {
  ChatCompletionAssistantMessageParam,
  ChatCompletionContentPart,
  ChatCompletionMessageParam,
} from "openai/resources/chat/completions";
import type { ChatMessage, ChatRequest, ContentPart, ReasoningOptions } from "../chat-provider.ts";

// The chat-completions body for a request, without `stream` (the caller sets it).
export function chatBody(request: ChatRequest) {
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

export function toWireMessage(message: ChatMessage): ChatCompletionMessageParam {
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

// OpenRouter's `reasoning` object: effort or max_tokens, and exclude.
function wireReasoning(reasoning: ReasoningOptions): Record<string, unknown> {
  return {
    ...(reasoning.effort === undefined ? {} : { effort: reasoning.effort }),
    ...(reasoning.maxTokens === undefined ? {} : { max_tokens: reasoning.maxTokens }),
    ...(reasoning.exclude === undefined ? {} : { exclude: reasoning.exclude }),
  };
}
