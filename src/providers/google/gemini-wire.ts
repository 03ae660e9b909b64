import type { ChatMessage, ChatRequest, ChatUsage, ContentPart, ToolCall } from "../chat-provider.ts";
import {
  fromDataUrl,
  joinedText,
  parameterNotSupported,
  toolArguments,
  unsupportedParams,
} from "../provider-call.ts";
import { buildRequest } from "../upstream-http.ts";

// The request, answer and usage mapping of the Gemini API's generateContent
// (https://ai.google.dev/api/generate-content): turns are `contents` with roles user and model, the system
// prompt is `systemInstruction`, sampling sits in `generationConfig`, tools are `functionDeclarations` and
// calls come back as functionCall parts, answered by functionResponse parts. Gemini caches repeated
// prefixes on its own (implicit caching) and explicit caches are separate resources
// (https://ai.google.dev/gemini-api/docs/caching), so a cache breakpoint has nothing to mark here.

const forwarded = new Set([
  "top_p",
  "top_k",
  "seed",
  "presence_penalty",
  "frequency_penalty",
  "logprobs",
  "top_logprobs",
]);

type Part = Record<string, unknown>;

// Gemini 3 signs the function calls of a thinking turn and wants the signature back with them
// (https://ai.google.dev/gemini-api/docs/thought-signatures); it rides in the tool call id clients echo.
const signed = "gsig_";

export function geminiBody(request: ChatRequest, provider: string): Record<string, unknown> {
  const refused = unsupportedParams(request.upstreamParams, forwarded);
  if (refused.length > 0) {
    throw parameterNotSupported(provider, request.model, refused, "the Gemini API has no such parameter");
  }
  const format = request.responseFormat as { type?: string; json_schema?: { schema?: unknown } } | undefined;
  return buildRequest(() => {
    const system = request.messages.filter((m) => m.role === "system").map((m) => joinedText(m.content));
    const params = request.upstreamParams ?? {};
    const { effort, maxTokens } = request.reasoning ?? {};
    const thinkingConfig =
      maxTokens !== undefined
        ? { thinkingBudget: maxTokens }
        : effort === undefined
          ? undefined
          : effort === "none" || effort === "minimal"
            ? { thinkingLevel: "low" }
            : { thinkingLevel: effort === "xhigh" ? "high" : effort };
    const generationConfig = {
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.maxTokens === undefined ? {} : { maxOutputTokens: request.maxTokens }),
      ...(request.stop === undefined ? {} : { stopSequences: [...request.stop] }),
      ...(params.top_p === undefined ? {} : { topP: params.top_p }),
      ...(params.top_k === undefined ? {} : { topK: params.top_k }),
      ...(params.seed === undefined ? {} : { seed: params.seed }),
      ...(params.presence_penalty === undefined ? {} : { presencePenalty: params.presence_penalty }),
      ...(params.frequency_penalty === undefined ? {} : { frequencyPenalty: params.frequency_penalty }),
      ...(params.logprobs === undefined ? {} : { responseLogprobs: params.logprobs }),
      ...(params.top_logprobs === undefined ? {} : { logprobs: params.top_logprobs }),
      ...(format?.type === "json_object" ? { responseMimeType: "application/json" } : {}),
      ...(format?.type === "json_schema"
        ? { responseMimeType: "application/json", responseJsonSchema: format.json_schema?.schema ?? {} }
        : {}),
      ...(thinkingConfig ? { thinkingConfig } : {}),
    };
    const declarations = (request.tools ?? []).map(functionDeclaration);
    return {
      contents: contents(request.messages),
      ...(system.length > 0 ? { systemInstruction: { parts: [{ text: system.join("\n\n") }] } } : {}),
      ...(Object.keys(generationConfig).length > 0 ? { generationConfig } : {}),
      ...(declarations.length > 0 ? { tools: [{ functionDeclarations: declarations }] } : {}),
      ...(request.toolChoice === undefined || request.toolChoice === null
        ? {}
        : { toolConfig: { functionCallingConfig: callingConfig(request.toolChoice) } }),
    };
  });
}

function contents(messages: readonly ChatMessage[]): Array<{ role: string; parts: Part[] }> {
  const out: Array<{ role: string; parts: Part[] }> = [];
  // A functionResponse names its function; a tool turn names only the call it answers.
  const names = new Map<string, string>();
  for (const message of messages) {
    if (message.role === "system") continue;
    const role = message.role === "assistant" ? "model" : "user";
    const parts = partsOf(message, names);
    if (parts.length === 0) continue;
    const last = out.at(-1);
    if (last?.role === role) last.parts.push(...parts);
    else out.push({ role, parts });
  }
  return out;
}

function partsOf(message: ChatMessage, names: Map<string, string>): Part[] {
  switch (message.role) {
    case "tool":
    case "function": {
      const name =
        message.role === "function" ? (message.name ?? "") : (names.get(message.toolCallId ?? "") ?? "");
      const text = joinedText(message.content);
      return [{ functionResponse: { name, response: responseObject(text) } }];
    }
    case "assistant": {
      const text = joinedText(message.content);
      const calls: ToolCall[] = [
        ...(message.toolCalls ?? []),
        ...(message.functionCall
          ? [{ id: "", type: "function" as const, function: message.functionCall }]
          : []),
      ];
      for (const call of calls) names.set(call.id, call.function.name);
      return [
        ...(text ? [{ text }] : []),
        ...calls.map((call) => ({
          functionCall: { name: call.function.name, args: toolArguments(call.function.arguments) },
          ...(call.id.startsWith(signed)
            ? { thoughtSignature: call.id.slice(signed.length).split(".")[0] }
            : {}),
        })),
      ];
    }
    default:
      if (typeof message.content === "string") return [{ text: message.content }];
      return message.content.flatMap(userPart);
  }
}

function userPart(part: ContentPart): Part[] {
  switch (part.type) {
    case "text":
      return [{ text: part.text }];
    case "refusal":
      return [{ text: part.refusal }];
    case "image": {
      const inline = fromDataUrl(part.url);
      return [
        inline
          ? { inlineData: { mimeType: inline.mediaType, data: inline.data } }
          : { fileData: { fileUri: part.url, mimeType: mimeOf(part.url) } },
      ];
    }
    case "file": {
      const inline = part.fileData ? fromDataUrl(part.fileData) : undefined;
      if (inline) return [{ inlineData: { mimeType: inline.mediaType, data: inline.data } }];
      return part.fileId ? [{ fileData: { fileUri: part.fileId, mimeType: "application/pdf" } }] : [];
    }
    case "audio":
      return [{ inlineData: { mimeType: `audio/${part.format}`, data: part.data } }];
  }
}

function mimeOf(url: string): string {
  const extension = /\.(\w+)(?:\?|$)/.exec(url)?.[1]?.toLowerCase();
  if (extension === "png") return "image/png";
  if (extension === "webp") return "image/webp";
  if (extension === "gif") return "image/gif";
  return "image/jpeg";
}

// functionResponse.response is an object: a JSON object result as is, anything else under `result`.
function responseObject(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === "object" && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
    return { result: value };
  } catch {
    return { result: text };
  }
}

function functionDeclaration(tool: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const fn = (tool.function ?? tool) as { name?: string; description?: string; parameters?: unknown };
  return {
    name: fn.name,
    ...(fn.description ? { description: fn.description } : {}),
    ...(fn.parameters ? { parametersJsonSchema: fn.parameters } : {}),
  };
}

function callingConfig(choice: unknown): Record<string, unknown> {
  if (choice === "required") return { mode: "ANY" };
  if (choice === "none") return { mode: "NONE" };
  if (typeof choice === "object" && choice !== null) {
    const name = (choice as { function?: { name?: string } }).function?.name;
    if (name) return { mode: "ANY", allowedFunctionNames: [name] };
  }
  return { mode: "AUTO" };
}

export interface GeminiPart {
  readonly text?: string;
  readonly thought?: boolean;
  readonly thoughtSignature?: string;
  readonly functionCall?: { readonly id?: string; readonly name?: string; readonly args?: unknown };
}

// A function call as the service's tool call: Gemini's id when it gives one, its signature kept in the id.
export function toolCallOf(part: GeminiPart, index: number): ToolCall {
  const call = part.functionCall ?? {};
  const base = call.id || `call_${index}`;
  return {
    id: part.thoughtSignature ? `${signed}${part.thoughtSignature}.${base}` : base,
    type: "function",
    function: { name: call.name ?? "", arguments: JSON.stringify(call.args ?? {}) },
  };
}

// Gemini's finish reasons in OpenAI's words.
export function finishReason(reason: string | undefined, calledTools: boolean): string {
  if (calledTools) return "tool_calls";
  switch (reason) {
    case "MAX_TOKENS":
      return "length";
    case "SAFETY":
    case "RECITATION":
    case "BLOCKLIST":
    case "PROHIBITED_CONTENT":
    case "SPII":
    case "IMAGE_SAFETY":
      return "content_filter";
    default:
      return "stop";
  }
}

export interface GeminiUsage {
  readonly promptTokenCount?: number;
  readonly candidatesTokenCount?: number;
  readonly thoughtsTokenCount?: number;
  readonly cachedContentTokenCount?: number;
  readonly toolUsePromptTokenCount?: number;
}

// promptTokenCount includes the cached tokens (cachedContentTokenCount); thinking tokens are billed as
// output (https://ai.google.dev/api/generate-content#UsageMetadata).
export function geminiUsage(usage: GeminiUsage | undefined): ChatUsage {
  const thoughts = usage?.thoughtsTokenCount ?? 0;
  const cached = usage?.cachedContentTokenCount ?? 0;
  return {
    promptTokens: (usage?.promptTokenCount ?? 0) + (usage?.toolUsePromptTokenCount ?? 0),
    completionTokens: (usage?.candidatesTokenCount ?? 0) + thoughts,
    ...(thoughts > 0 ? { reasoningTokens: thoughts } : {}),
    ...(cached > 0 ? { cacheReadTokens: cached } : {}),
  };
}
