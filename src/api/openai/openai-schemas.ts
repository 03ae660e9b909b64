import { z } from "zod";
import type { ChatMessage, ContentPart, GenerationOptions } from "../../providers/chat-provider.ts";
import { fileDataSchema, imageUrlSchema } from "../media-urls.ts";

// The request body of POST /v1/chat/completions, as OpenAI defines it (the fields this service uses).

const textPart = z.object({ type: z.literal("text"), text: z.string() });
const imagePart = z.object({
  type: z.literal("image_url"),
  image_url: z.object({ url: imageUrlSchema, detail: z.enum(["auto", "low", "high"]).optional() }),
});
const filePart = z.object({
  type: z.literal("file"),
  file: z
    .object({
      filename: z.string().max(255).optional(),
      file_data: fileDataSchema.optional(),
      file_id: z.string().min(1).max(256).optional(),
    })
    .refine((file) => file.file_data !== undefined || file.file_id !== undefined, {
      error: "needs file_data (a data: URL) or file_id",
    }),
});
const audioPart = z.object({
  type: z.literal("input_audio"),
  input_audio: z.object({
    data: z.string().regex(/^[A-Za-z0-9+/=\s]+$/, "must be base64-encoded audio"),
    format: z.string().regex(/^[a-z0-9]{2,10}$/, "must be an audio format such as wav or mp3"),
  }),
});
const refusalPart = z.object({ type: z.literal("refusal"), refusal: z.string() });
const contentPart = z.discriminatedUnion("type", [textPart, imagePart, filePart, audioPart, refusalPart], {
  error: "type must be one of text, image_url, file, input_audio, refusal",
});

const toolCall = z.object({
  id: z.string(),
  type: z.literal("function"),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

const message = z
  .object({
    role: z.enum(["system", "developer", "user", "assistant", "tool", "function"], {
      error: "must be one of system, developer, user, assistant, tool, function",
    }),
    content: z
      .union([z.string(), z.array(contentPart)], {
        error: "must be a string or an array of content parts (text, image_url, file, input_audio, refusal)",
      })
      .nullish(),
    name: z.string().optional(),
    tool_calls: z.array(toolCall).optional(),
    tool_call_id: z.string().optional(),
    // The legacy functions API: an assistant's call, answered by a role "function" message.
    function_call: z.object({ name: z.string(), arguments: z.string() }).optional(),
  })
  .refine((m) => m.role !== "function" || (m.name ?? "") !== "", {
    error: "a function message needs the name of the function it answers",
    path: ["name"],
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
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  return {
    conversation,
    ...latestUserInput(conversation),
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

// The latest user message's text and images: what routing (model auto) looks at.
export function latestUserInput(conversation: readonly ChatMessage[]): { message: string; images: string[] } {
  const lastUser = conversation.findLast((m) => m.role === "user");
  const parts =
    typeof lastUser?.content === "string"
      ? [{ type: "text", text: lastUser.content } as const]
      : (lastUser?.content ?? []);
  return {
    message: parts.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("\n"),
    images: parts.flatMap((p) => (p.type === "image" ? [p.url] : [])),
  };
}

function toChatMessage(wire: ChatCompletionBody["messages"][number]): ChatMessage {
  const role = wire.role === "developer" ? "system" : wire.role;
  const content: string | ContentPart[] =
    typeof wire.content === "string" || wire.content == null
      ? (wire.content ?? "")
      : wire.content.map(toContentPart);
  return {
    role,
    content,
    ...(wire.name ? { name: wire.name } : {}),
    ...(wire.tool_calls ? { toolCalls: wire.tool_calls } : {}),
    ...(wire.tool_call_id ? { toolCallId: wire.tool_call_id } : {}),
    ...(wire.function_call ? { functionCall: wire.function_call } : {}),
  };
}

type WirePart = z.output<typeof contentPart>;

function toContentPart(part: WirePart): ContentPart {
  switch (part.type) {
    case "text":
      return { type: "text", text: part.text };
    case "image_url":
      return {
        type: "image",
        url: part.image_url.url,
        ...(part.image_url.detail ? { detail: part.image_url.detail } : {}),
      };
    case "file":
      return {
        type: "file",
        ...(part.file.filename === undefined ? {} : { filename: part.file.filename }),
        ...(part.file.file_data === undefined ? {} : { fileData: part.file.file_data }),
        ...(part.file.file_id === undefined ? {} : { fileId: part.file.file_id }),
      };
    case "input_audio":
      return { type: "audio", data: part.input_audio.data, format: part.input_audio.format };
    case "refusal":
      return { type: "refusal", refusal: part.refusal };
  }
}
