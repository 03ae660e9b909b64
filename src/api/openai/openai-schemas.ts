import { z } from "zod";
import { invalidRequest } from "../../core/errors.ts";
import { modelIdSchema } from "../../models/model-id.ts";
import type {
  ChatMessage,
  ContentPart,
  GenerationOptions,
  ReasoningOptions,
} from "../../providers/chat-provider.ts";
import { cacheControlSchema, toCacheControl } from "../cache-control.ts";
import { fileDataSchema, imageUrlSchema } from "../media-urls.ts";

// The request body of POST /v1/chat/completions, as OpenAI defines it (the fields this service uses).

// cache_control: a prompt-cache breakpoint after this part, passed on to the upstream.
const textPart = z.object({
  type: z.literal("text"),
  text: z.string(),
  cache_control: cacheControlSchema.nullish(),
});
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

// The parameters sent on to the upstream as given, beyond those the service reads itself: OpenAI's
// (https://platform.openai.com/docs/api-reference/chat/create) and OpenRouter's own
// (https://openrouter.ai/docs/api-reference/parameters, provider routing, transforms, model fallbacks).
const forwarded = {
  seed: z.number().int().nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  top_k: z.number().int().min(0).nullish(),
  min_p: z.number().min(0).max(1).nullish(),
  top_a: z.number().min(0).max(1).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  repetition_penalty: z.number().min(0).max(2).nullish(),
  logit_bias: z
    .record(z.string().regex(/^\d+$/, "keys must be token ids"), z.number().min(-100).max(100))
    .nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  metadata: z
    .record(z.string().max(64), z.string().max(512))
    .refine((m) => Object.keys(m).length <= 16, "at most 16 keys")
    .nullish(),
  prediction: z
    .object({ type: z.literal("content"), content: z.union([z.string(), z.array(textPart)]) })
    .nullish(),
  service_tier: z.enum(["auto", "default", "flex", "scale", "priority"]).nullish(),
  verbosity: z.enum(["low", "medium", "high"]).nullish(),
  web_search_options: z.record(z.string(), z.unknown()).nullish(),
  prompt_cache_key: z.string().max(1024).nullish(),
  safety_identifier: z.string().max(1024).nullish(),
  functions: z.array(z.record(z.string(), z.unknown())).nullish(),
  function_call: z.union([z.enum(["none", "auto"]), z.object({ name: z.string().min(1) })]).nullish(),
  provider: z.record(z.string(), z.unknown()).nullish(),
  transforms: z.array(z.string().min(1)).nullish(),
  models: z.array(modelIdSchema("must be a model id")).max(16).nullish(),
  route: z.literal("fallback").nullish(),
} as const;

const reasoningEffort = z.enum(["xhigh", "high", "medium", "low", "minimal", "none"]);

export const chatCompletionBodySchema = z.strictObject({
  model: modelIdSchema("is required: auto, a role such as medium_ai, or a model id"),
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
  stop: z.union([z.string(), z.array(z.string()).max(16)]).nullish(),
  // OpenAI's reasoning_effort, or OpenRouter's reasoning object: sent as OpenRouter's reasoning.
  reasoning_effort: reasoningEffort.nullish(),
  reasoning: z
    .strictObject({
      effort: reasoningEffort.optional(),
      max_tokens: z.number().int().positive().optional(),
      exclude: z.boolean().optional(),
      enabled: z.boolean().optional(),
    })
    .nullish(),
  // Accepted only where the service can honour them: one choice, text out, nothing stored upstream.
  n: z.number().int().min(1).nullish(),
  modalities: z.array(z.enum(["text", "audio"])).nullish(),
  audio: z.record(z.string(), z.unknown()).nullish(),
  store: z.boolean().nullish(),
  ...forwarded,
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
  refuseWhatCannotBeHonoured(body);
  const conversation = body.messages.map(toChatMessage);
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  const reasoning = reasoningOf(body);
  const upstreamParams = Object.fromEntries(
    Object.keys(forwarded).flatMap((name) => {
      const value = body[name as keyof typeof forwarded];
      return value == null ? [] : [[name, value]];
    }),
  );
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
      ...(body.stop == null ? {} : { stop: typeof body.stop === "string" ? [body.stop] : body.stop }),
      ...(reasoning ? { reasoning } : {}),
      ...(Object.keys(upstreamParams).length > 0 ? { upstreamParams } : {}),
    },
  };
}

// A 400 naming the parameter, rather than an answer that silently ignores it.
function refuseWhatCannotBeHonoured(body: ChatCompletionBody): void {
  if (body.n != null && body.n > 1) {
    throw invalidRequest("n", "only one choice per request is supported; send the request n times instead");
  }
  if (body.modalities?.includes("audio") || body.audio != null) {
    throw invalidRequest(body.audio != null ? "audio" : "modalities", "audio output is not supported");
  }
  if (body.store === true) {
    throw invalidRequest("store", "completions are not stored upstream for distillation or evals here");
  }
  if (body.logprobs && body.stream) {
    throw invalidRequest("logprobs", "log probabilities are returned on non-streamed completions only");
  }
  if (body.top_logprobs != null && !body.logprobs) {
    throw invalidRequest("top_logprobs", "needs logprobs: true");
  }
  if (body.reasoning_effort != null && body.reasoning != null) {
    throw invalidRequest("reasoning_effort", "give reasoning_effort or reasoning, not both");
  }
  if (body.reasoning?.effort !== undefined && body.reasoning.max_tokens !== undefined) {
    throw invalidRequest("reasoning", "give effort or max_tokens, not both");
  }
}

function reasoningOf(body: ChatCompletionBody): ReasoningOptions | undefined {
  if (body.reasoning_effort != null) return { effort: body.reasoning_effort };
  const wire = body.reasoning;
  if (wire == null) return undefined;
  // enabled: false is the same as no reasoning at all.
  if (wire.enabled === false) return { effort: "none" };
  return {
    ...(wire.effort === undefined ? {} : { effort: wire.effort }),
    ...(wire.max_tokens === undefined ? {} : { maxTokens: wire.max_tokens }),
    ...(wire.exclude === undefined ? {} : { exclude: wire.exclude }),
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
    case "text": {
      const cacheControl = toCacheControl(part.cache_control);
      return { type: "text", text: part.text, ...(cacheControl ? { cacheControl } : {}) };
    }
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
