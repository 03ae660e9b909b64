import type {
  CacheControl,
  ChatMessage,
  ChatRequest,
  ChatUsage,
  ContentPart,
  ToolCall,
} from "../chat-provider.ts";
import {
  fromDataUrl,
  joinedText,
  parameterNotSupported,
  toolArguments,
  unsupportedParams,
} from "../provider-call.ts";
import { buildRequest } from "../upstream-http.ts";

// The request, answer and usage mapping of Anthropic's Messages API
// (https://docs.anthropic.com/en/api/messages): `system` is top level, `max_tokens` is required, tool calls
// are tool_use blocks answered by tool_result blocks in a user turn, images are image blocks with a base64
// or URL source, and prompt-cache breakpoints are `cache_control` on a block
// (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching).

// What the Messages API takes of the OpenAI-style extras; the rest has no counterpart and is refused.
const forwarded = new Set(["top_p", "top_k", "safety_identifier"]);

type Block = Record<string, unknown>;
interface WireMessage {
  role: "user" | "assistant";
  content: Block[];
}

export function anthropicBody(request: ChatRequest, provider: string): Record<string, unknown> {
  const refused = unsupportedParams(request.upstreamParams, forwarded);
  if (refused.length > 0) {
    throw parameterNotSupported(
      provider,
      request.model,
      refused,
      "Anthropic's Messages API has no such parameter (it takes temperature, top_p, top_k, stop sequences, tools and thinking)",
    );
  }
  const format = request.responseFormat as { type?: string; json_schema?: { schema?: unknown } } | undefined;
  if (format && format.type !== "text" && format.type !== "json_object" && format.type !== "json_schema") {
    throw parameterNotSupported(
      provider,
      request.model,
      ["response_format"],
      `type '${format.type}' is unknown`,
    );
  }
  const audio = request.messages.some(
    (m) => typeof m.content !== "string" && m.content.some((part) => part.type === "audio"),
  );
  if (audio)
    throw parameterNotSupported(
      provider,
      request.model,
      ["input_audio"],
      "Claude models take no audio input",
    );
  return buildRequest(() => {
    const system = request.messages
      .filter((m) => m.role === "system")
      .flatMap((m) => textBlocks(m.content, m.cacheControl));
    // json_object has no native form: the instruction says it; json_schema is Anthropic's structured output.
    if (format?.type === "json_object") {
      system.push({ type: "text", text: "Answer with a single JSON object and nothing else." });
    }
    const adaptiveOnly = isAdaptiveOnly(request.model);
    const { effort } = request.reasoning ?? {};
    // The Claude 5 models think adaptively only: a token budget has no form there (effort stands in).
    const maxTokens = adaptiveOnly ? undefined : request.reasoning?.maxTokens;
    const outputConfig = {
      ...(effort && effort !== "none" ? { effort: effort === "minimal" ? "low" : effort } : {}),
      ...(format?.type === "json_schema"
        ? { format: { type: "json_schema", schema: format.json_schema?.schema ?? {} } }
        : {}),
    };
    const params = request.upstreamParams ?? {};
    const user = request.user ?? (params.safety_identifier as string | undefined);
    return {
      model: request.model,
      // Required by the API; the model client always sizes it, this only guards a direct caller.
      max_tokens: request.maxTokens ?? 4096,
      ...(system.length > 0 ? { system } : {}),
      messages: wireMessages(request.messages),
      // Extended thinking takes no temperature change (https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking),
      // the Claude 5 models no sampling parameter at all; Anthropic's range is 0 to 1.
      ...(request.temperature === undefined || maxTokens !== undefined || adaptiveOnly
        ? {}
        : { temperature: Math.min(request.temperature, 1) }),
      ...(params.top_p === undefined || adaptiveOnly ? {} : { top_p: params.top_p }),
      ...(params.top_k === undefined || adaptiveOnly ? {} : { top_k: params.top_k }),
      ...(request.stop === undefined ? {} : { stop_sequences: [...request.stop] }),
      ...(request.tools === undefined ? {} : { tools: request.tools.map(wireTool) }),
      ...(request.toolChoice === undefined || request.toolChoice === null
        ? {}
        : { tool_choice: wireToolChoice(request.toolChoice) }),
      ...(user === undefined ? {} : { metadata: { user_id: user } }),
      ...(maxTokens !== undefined
        ? { thinking: { type: "enabled", budget_tokens: maxTokens } }
        : effort === "none" && !adaptiveOnly
          ? { thinking: { type: "disabled" } }
          : {}),
      ...(Object.keys(outputConfig).length > 0 ? { output_config: outputConfig } : {}),
    };
  });
}

// The Claude 5 generation (claude-sonnet-5, claude-haiku-5-5, claude-opus-5-5, ...) answers a non-default
// temperature, top_p or top_k, and a thinking budget, with 400: it thinks adaptively, steered by effort
// (https://platform.claude.com/docs/en/models/sonnet-5/migration-guide). Those are left out for it, and
// thinking is never switched off (Opus 5.5 cannot be).
export function isAdaptiveOnly(model: string): boolean {
  const generation = /^claude-[a-z]+-(\d+)/.exec(model)?.[1];
  return generation !== undefined && Number(generation) >= 5;
}

function withCache(block: Block, cache: CacheControl | undefined): Block {
  return cache
    ? { ...block, cache_control: { type: cache.type, ...(cache.ttl ? { ttl: cache.ttl } : {}) } }
    : block;
}

function textBlocks(content: ChatMessage["content"], cache: CacheControl | undefined): Block[] {
  const blocks: Block[] =
    typeof content === "string"
      ? [{ type: "text", text: content }]
      : content.flatMap((part) =>
          part.type === "text" ? [withCache({ type: "text", text: part.text }, part.cacheControl)] : [],
        );
  return markLast(blocks, cache);
}

// A message-level breakpoint goes on the message's last block, as the API places it.
function markLast(blocks: Block[], cache: CacheControl | undefined): Block[] {
  const last = blocks.at(-1);
  if (!cache || !last) return blocks;
  return [...blocks.slice(0, -1), withCache(last, cache)];
}

// Turns alternate user/assistant: tool results (and any consecutive same-role turns) join one turn.
function wireMessages(messages: readonly ChatMessage[]): WireMessage[] {
  const out: WireMessage[] = [];
  const toolNames = new Map<string, string>();
  for (const message of messages) {
    if (message.role === "system") continue;
    const role = message.role === "assistant" ? "assistant" : "user";
    const blocks = markLast(contentBlocks(message, toolNames), message.cacheControl);
    if (blocks.length === 0) continue;
    const last = out.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  }
  return out;
}

function contentBlocks(message: ChatMessage, toolNames: Map<string, string>): Block[] {
  switch (message.role) {
    case "tool":
      return [
        { type: "tool_result", tool_use_id: message.toolCallId ?? "", content: joinedText(message.content) },
      ];
    case "function":
      // The legacy functions API answers by name; the call it answers is the last one of that name.
      return [
        {
          type: "tool_result",
          tool_use_id: toolNames.get(message.name ?? "") ?? message.name ?? "",
          content: joinedText(message.content),
        },
      ];
    case "assistant": {
      const text = typeof message.content === "string" ? message.content : joinedText(message.content);
      const calls: ToolCall[] = [
        ...(message.toolCalls ?? []),
        ...(message.functionCall
          ? [
              {
                id: `fc_${message.functionCall.name}`,
                type: "function" as const,
                function: message.functionCall,
              },
            ]
          : []),
      ];
      for (const call of calls) toolNames.set(call.function.name, call.id);
      return [
        ...(text ? [{ type: "text", text }] : []),
        ...calls.map((call) => ({
          type: "tool_use",
          id: call.id,
          name: call.function.name,
          input: toolArguments(call.function.arguments),
        })),
      ];
    }
    default:
      if (typeof message.content === "string") return [{ type: "text", text: message.content }];
      return message.content.flatMap(userBlock);
  }
}

function userBlock(part: ContentPart): Block[] {
  switch (part.type) {
    case "text":
      return [withCache({ type: "text", text: part.text }, part.cacheControl)];
    case "refusal":
      return [{ type: "text", text: part.refusal }];
    case "image": {
      const inline = fromDataUrl(part.url);
      return [
        {
          type: "image",
          source: inline
            ? { type: "base64", media_type: inline.mediaType, data: inline.data }
            : { type: "url", url: part.url },
        },
      ];
    }
    case "file": {
      const inline = part.fileData ? fromDataUrl(part.fileData) : undefined;
      if (inline) {
        return [
          { type: "document", source: { type: "base64", media_type: inline.mediaType, data: inline.data } },
        ];
      }
      return [{ type: "document", source: { type: "file", file_id: part.fileId ?? "" } }];
    }
    case "audio":
      return [];
  }
}

// OpenAI's {type: "function", function: {name, description, parameters}} as Anthropic's tool.
function wireTool(tool: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const fn = (tool.function ?? tool) as { name?: string; description?: string; parameters?: unknown };
  return {
    name: fn.name,
    ...(fn.description ? { description: fn.description } : {}),
    input_schema: fn.parameters ?? { type: "object", properties: {} },
  };
}

function wireToolChoice(choice: unknown): Record<string, unknown> {
  if (choice === "required") return { type: "any" };
  if (choice === "none") return { type: "none" };
  if (typeof choice === "object" && choice !== null) {
    const name = (choice as { function?: { name?: string } }).function?.name;
    if (name) return { type: "tool", name };
  }
  return { type: "auto" };
}

// Anthropic's stop reasons in OpenAI's words, which the rest of the service reads.
export function finishReason(stopReason: string | null | undefined): string {
  switch (stopReason) {
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    default:
      return "stop";
  }
}

export interface AnthropicUsage {
  readonly input_tokens?: number | null;
  readonly output_tokens?: number | null;
  readonly cache_read_input_tokens?: number | null;
  readonly cache_creation_input_tokens?: number | null;
}

// input_tokens leaves out the tokens read from and written to the cache; the service counts them in.
export function anthropicUsage(usage: AnthropicUsage | undefined): ChatUsage {
  const read = usage?.cache_read_input_tokens ?? 0;
  const write = usage?.cache_creation_input_tokens ?? 0;
  return {
    promptTokens: (usage?.input_tokens ?? 0) + read + write,
    completionTokens: usage?.output_tokens ?? 0,
    ...(read > 0 ? { cacheReadTokens: read } : {}),
    ...(write > 0 ? { cacheWriteTokens: write } : {}),
  };
}
