import { z } from "zod";
import type { ChatMessage, ContentPart, GenerationOptions } from "../../providers/chat-provider.ts";

// The request body of POST /v1/chat/completions, as OpenAI defines it (the fields this service uses).

const textPart = z.object({ type: z.literal("text"), text: z.string() });
const imagePart = z.object({
  type: z.literal("image_url"),
  image_url: z.object({ url: z.string().min(1), detail: z.string().optional() }),
});

const toolCall = z.object({
  id: z.string(),
  type: z.literal("function"),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

const message = z.object({
  role: z.enum(["system", "developer", "user", "assistant", "tool"], {
    error: "must be one of system, developer, user, assistant, tool",
  }),
  content: z
    .union([z.string(), z.array(z.union([textPart, imagePart]))], {
      error: "must be a string or an array of text and image_url parts",
    })
    .nullish(),
  name: z.string().optional(),
  tool_calls: z.array(toolCall).optional(),
  tool_call_id: z.string().optional(),
});

export const chatCompletionBodySchema = z.object({
  model: z
    .string({ error: "is required: auto, a role such as medium_ai, or a model id" })
    .min(1, "must not be empty"),
  messages: z
    .array(message, { error: "is required: an array of messages" })
    .min(1, "must hold at least one message"),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  response_format: z.record(z.string(), z.unknown()).nullish(),
  user: z.string().nullish(),
  tools: z.array(z.record(z.string(), z.unknown())).nullish(),
  tool_choice: z.unknown().optional(),
  // Extension: answer from (and keep in) the response cache even at a temperature above 0.
  cache: z.boolean().nullish(),
});

export type ChatCompletionBody = z.output<typeof chatCompletionBodySchema>;

export interface ConvertedRequest {
  readonly conversation: ChatMessage[];
  // The latest user message's text and images: what routing looks at.
  readonly message: string;
  readonly images: string[];
  readonly generation: GenerationOptions;
}

export function convertRequest(body: ChatCompletionBody): ConvertedRequest {
  const conversation = body.messages.map(toChatMessage);
  const lastUser = conversation.findLast((m) => m.role === "user");
  const parts =
    typeof lastUser?.content === "string"
      ? [{ type: "text", text: lastUser.content } as const]
      : (lastUser?.content ?? []);
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  return {
    conversation,
    message: parts.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("\n"),
    images: parts.flatMap((p) => (p.type === "image" ? [p.url] : [])),
    generation: {
      ...(body.temperature == null ? {} : { temperature: body.temperature }),
      ...(maxTokens == null ? {} : { maxTokens }),
      ...(body.response_format == null ? {} : { responseFormat: body.response_format }),
      ...(body.tools == null ? {} : { tools: body.tools }),
      ...(body.tool_choice === undefined ? {} : { toolChoice: body.tool_choice }),
      ...(body.user == null ? {} : { user: body.user }),
    },
  };
}

function toChatMessage(wire: ChatCompletionBody["messages"][number]): ChatMessage {
  const role = wire.role === "developer" ? "system" : wire.role;
  const content: string | ContentPart[] =
    typeof wire.content === "string" || wire.content == null
      ? (wire.content ?? "")
      : wire.content.map((part) =>
          part.type === "text"
            ? { type: "text", text: part.text }
            : { type: "image", url: part.image_url.url },
        );
  return {
    role,
    content,
    ...(wire.tool_calls ? { toolCalls: wire.tool_calls } : {}),
    ...(wire.tool_call_id ? { toolCallId: wire.tool_call_id } : {}),
  };
}
