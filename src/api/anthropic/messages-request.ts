import { z } from "zod";
import { modelIdSchema } from "../../models/model-id.ts";
import type {
  CacheControl,
  ChatMessage,
  ContentPart,
  GenerationOptions,
  ToolCall,
} from "../../providers/chat-provider.ts";
import { cacheControlSchema, toCacheControl } from "../cache-control.ts";
import { fileDataSchema, imageUrlSchema } from "../media-urls.ts";
import { latestUserInput } from "../openai/openai-schemas.ts";
import { unsupported } from "../validation.ts";

// The request body of POST /v1/messages, as Anthropic defines it (the fields this service uses), and its
// translation into the chat pipeline's conversation and generation options.
// https://docs.anthropic.com/en/api/messages

const base64 = z.string().regex(/^[A-Za-z0-9+/=\s]+$/, "must be base64");
const imageSource = z.discriminatedUnion(
  "type",
  [
    z.object({
      type: z.literal("base64"),
      media_type: z.enum(["image/jpeg", "image/png", "image/gif", "image/webp"]),
      data: base64,
    }),
    z.object({ type: z.literal("url"), url: imageUrlSchema }),
  ],
  { error: "type must be base64 or url" },
);
const documentSource = z.discriminatedUnion(
  "type",
  [
    z.object({ type: z.literal("base64"), media_type: z.literal("application/pdf"), data: base64 }),
    z.object({ type: z.literal("url"), url: fileDataSchema }),
    z.object({ type: z.literal("text"), media_type: z.literal("text/plain").optional(), data: z.string() }),
  ],
  { error: "type must be base64, url or text" },
);

// cache_control on a block: a prompt-cache breakpoint after it, passed on to the upstream.
const cacheControl = cacheControlSchema.nullish();
const textBlock = z.object({ type: z.literal("text"), text: z.string(), cache_control: cacheControl });
const imageBlock = z.object({ type: z.literal("image"), source: imageSource, cache_control: cacheControl });
const documentBlock = z.object({
  type: z.literal("document"),
  source: documentSource,
  title: z.string().nullish(),
  cache_control: cacheControl,
});
const toolUseBlock = z.object({
  type: z.literal("tool_use"),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
  cache_control: cacheControl,
});
const toolResultBlock = z.object({
  type: z.literal("tool_result"),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.discriminatedUnion("type", [textBlock, imageBlock]))]).optional(),
  is_error: z.boolean().optional(),
  cache_control: cacheControl,
});
// Extended thinking a model returned earlier: nothing here can replay it, so it is left out.
const thinkingBlock = z.object({ type: z.enum(["thinking", "redacted_thinking"]) }).loose();
const block = z.discriminatedUnion(
  "type",
  [textBlock, imageBlock, documentBlock, toolUseBlock, toolResultBlock, thinkingBlock],
  { error: "type must be one of text, image, document, tool_use, tool_result" },
);

const message = z.object({
  role: z.enum(["user", "assistant"], { error: "must be user or assistant" }),
  content: z.union([z.string(), z.array(block)], { error: "must be a string or an array of content blocks" }),
});

const tool = z.object({
  type: z.literal("custom").optional(),
  name: z.string().min(1),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown(), {
    error: "is required: a JSON schema (only client tools with an input_schema are supported here)",
  }),
});

const fields = {
  model: modelIdSchema("is required: auto, a role such as medium_ai, or a model id"),
  max_tokens: z.number({ error: "is required: a number of tokens" }).int().positive(),
  messages: z
    .array(message, { error: "is required: an array of messages" })
    .min(1, "must hold at least one message"),
  system: z
    .union([z.string(), z.array(textBlock)], {
      error: "must be a string or an array of text blocks (a cache_control must be of type ephemeral)",
    })
    .optional(),
  stop_sequences: z.array(z.string().min(1)).max(16).optional(),
  temperature: z.number().min(0).max(1).optional(),
  tools: z.array(tool).optional(),
  tool_choice: z
    .discriminatedUnion("type", [
      z.object({ type: z.literal("auto") }).loose(),
      z.object({ type: z.literal("any") }).loose(),
      z.object({ type: z.literal("none") }),
      z.object({ type: z.literal("tool"), name: z.string().min(1) }).loose(),
    ])
    .optional(),
  metadata: z.object({ user_id: z.string().nullish() }).loose().optional(),
  stream: z.boolean().optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  // Extended thinking: a token budget for reasoning, or none.
  thinking: z
    .discriminatedUnion(
      "type",
      [
        z.object({ type: z.literal("enabled"), budget_tokens: z.number().int().positive() }),
        z.object({ type: z.literal("disabled") }),
        z.object({ type: z.literal("adaptive") }),
      ],
      { error: "type must be one of enabled, disabled, adaptive" },
    )
    .optional(),
  // Priority capacity is never used here, so either value is what happens.
  service_tier: z.enum(["auto", "standard_only"]).optional(),
  speed: z
    .enum(["standard", "fast"])
    .nullish()
    .refine((value) => value !== "fast", "is not supported here: only standard"),
  // Automatic caching: a breakpoint after the last message, as Anthropic places it.
  cache_control: cacheControl,
  container: unsupported("code execution containers are not run here"),
  mcp_servers: unsupported("MCP servers are not called from here; pass their tools as client tools"),
  context_management: unsupported("the conversation is sent as given"),
  output_config: unsupported("send the output's JSON schema in the prompt or use /v1/chat/completions"),
  inference_geo: unsupported("where the model runs is the upstream's choice"),
  diagnostics: unsupported("no diagnostics are returned"),
  user_profile_id: unsupported("there are no user profiles here"),
  workspace_id: unsupported("there are no workspaces here"),
};

// Strict: a misspelt or unknown field is refused by name; documented fields the service cannot honour are
// refused saying so.
export const messagesBodySchema = z.strictObject(fields);

// POST /v1/messages/count_tokens takes the same body without max_tokens.
export const countTokensBodySchema = z.strictObject({ ...fields, max_tokens: fields.max_tokens.optional() });

export type MessagesBody = z.output<typeof messagesBodySchema>;

export interface ConvertedMessagesRequest {
  readonly conversation: ChatMessage[];
  readonly message: string;
  readonly images: string[];
  readonly generation: GenerationOptions;
}

export function convertMessagesRequest(
  body: Omit<MessagesBody, "max_tokens"> & { max_tokens?: number | undefined },
): ConvertedMessagesRequest {
  const conversation: ChatMessage[] = [];
  const system = systemMessage(body.system);
  if (system) conversation.push(system);
  for (const wire of body.messages) conversation.push(...toChatMessages(wire));
  const automatic = toCacheControl(body.cache_control);
  const last = conversation.at(-1);
  if (automatic && last && !last.cacheControl)
    conversation[conversation.length - 1] = { ...last, cacheControl: automatic };
  return { conversation, ...latestUserInput(conversation), generation: generationOf(body) };
}

// The system blocks as one message: joined text, or text parts where a block carries a cache breakpoint.
function systemMessage(system: MessagesBody["system"]): ChatMessage | undefined {
  if (typeof system === "string") return system ? { role: "system", content: system } : undefined;
  if (!system || system.length === 0) return undefined;
  if (!system.some((b) => b.cache_control)) {
    const text = system.map((b) => b.text).join("\n");
    return text ? { role: "system", content: text } : undefined;
  }
  return { role: "system", content: system.map(textPart) };
}

type WireMessage = MessagesBody["messages"][number];
type Block = z.output<typeof block>;

// A user turn's tool results become tool messages, placed first because they answer the assistant turn
// just before; an assistant turn's tool_use blocks become its tool calls. A breakpoint on a text block
// stays on its part; one on a block with no part of its own (a tool call or result, or the last image or
// document) becomes a breakpoint after its whole message.
function toChatMessages(wire: WireMessage): ChatMessage[] {
  if (typeof wire.content === "string") return [{ role: wire.role, content: wire.content }];
  if (wire.role === "assistant") {
    const text = wire.content.flatMap((b) => (b.type === "text" ? [b.text] : [])).join("");
    const toolCalls: ToolCall[] = wire.content.flatMap((b) =>
      b.type === "tool_use"
        ? [
            {
              id: b.id,
              type: "function" as const,
              function: { name: b.name, arguments: JSON.stringify(b.input) },
            },
          ]
        : [],
    );
    const breakpoint = lastBreakpoint(wire.content);
    return [
      {
        role: "assistant",
        content: text,
        ...(toolCalls.length > 0 ? { toolCalls } : {}),
        ...(breakpoint ? { cacheControl: breakpoint } : {}),
      },
    ];
  }
  const results: ChatMessage[] = wire.content.flatMap((b) => {
    if (b.type !== "tool_result") return [];
    const breakpoint = toCacheControl(b.cache_control);
    return [
      {
        role: "tool" as const,
        toolCallId: b.tool_use_id,
        content: resultText(b),
        ...(breakpoint ? { cacheControl: breakpoint } : {}),
      },
    ];
  });
  const parts = wire.content.flatMap(toContentParts);
  if (parts.length === 0) return results;
  const final = wire.content.at(-1);
  const trailing =
    final && final.type !== "text" && final.type !== "tool_result" ? blockBreakpoint(final) : undefined;
  return [...results, { role: "user", content: parts, ...(trailing ? { cacheControl: trailing } : {}) }];
}

function blockBreakpoint(b: Block): CacheControl | undefined {
  switch (b.type) {
    case "text":
    case "image":
    case "document":
    case "tool_use":
    case "tool_result":
      return toCacheControl(b.cache_control);
    default:
      // Thinking blocks are passed over whole, whatever they carry.
      return undefined;
  }
}

function lastBreakpoint(blocks: readonly Block[]): CacheControl | undefined {
  for (let i = blocks.length - 1; i >= 0; i--) {
    const found = blocks[i] && blockBreakpoint(blocks[i] as Block);
    if (found) return found;
  }
  return undefined;
}

function textPart(b: z.output<typeof textBlock>): ContentPart {
  const breakpoint = toCacheControl(b.cache_control);
  return { type: "text", text: b.text, ...(breakpoint ? { cacheControl: breakpoint } : {}) };
}

function resultText(result: Extract<Block, { type: "tool_result" }>): string {
  const text =
    typeof result.content === "string"
      ? result.content
      : (result.content ?? []).map((b) => (b.type === "text" ? b.text : "[image]")).join("\n");
  return result.is_error ? `Error: ${text}` : text;
}

function toContentParts(b: Block): ContentPart[] {
  switch (b.type) {
    case "text":
      return [textPart(b)];
    case "image":
      return [
        {
          type: "image",
          url: b.source.type === "url" ? b.source.url : `data:${b.source.media_type};base64,${b.source.data}`,
        },
      ];
    case "document":
      if (b.source.type === "text") return [{ type: "text", text: b.source.data }];
      return [
        {
          type: "file",
          ...(b.title ? { filename: b.title } : {}),
          fileData: b.source.type === "url" ? b.source.url : `data:application/pdf;base64,${b.source.data}`,
        },
      ];
    default:
      return [];
  }
}

function generationOf(
  body: Omit<MessagesBody, "max_tokens"> & { max_tokens?: number | undefined },
): GenerationOptions {
  const tools = body.tools?.map((t) => ({
    type: "function",
    function: {
      name: t.name,
      ...(t.description === undefined ? {} : { description: t.description }),
      parameters: t.input_schema,
    },
  }));
  const choice = body.tool_choice;
  const toolChoice =
    choice === undefined
      ? undefined
      : choice.type === "any"
        ? "required"
        : choice.type === "tool"
          ? { type: "function", function: { name: choice.name } }
          : choice.type;
  const upstreamParams = {
    ...(body.top_p === undefined ? {} : { top_p: body.top_p }),
    ...(body.top_k === undefined ? {} : { top_k: body.top_k }),
  };
  const thinking = body.thinking;
  const reasoning =
    thinking?.type === "enabled"
      ? { maxTokens: thinking.budget_tokens }
      : thinking?.type === "disabled"
        ? { effort: "none" as const }
        : undefined;
  return {
    ...(body.max_tokens === undefined ? {} : { maxTokens: body.max_tokens }),
    ...(reasoning ? { reasoning } : {}),
    ...(Object.keys(upstreamParams).length > 0 ? { upstreamParams } : {}),
    ...(body.temperature === undefined ? {} : { temperature: body.temperature }),
    ...(body.stop_sequences === undefined ? {} : { stop: body.stop_sequences }),
    ...(tools === undefined ? {} : { tools }),
    ...(toolChoice === undefined ? {} : { toolChoice }),
    ...(body.metadata?.user_id ? { user: body.metadata.user_id } : {}),
  };
}
