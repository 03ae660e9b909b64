import { z } from "zod";
import { invalidRequest, OrchestratorError } from "../../core/errors.ts";
import { modelIdSchema } from "../../models/model-id.ts";
import type { ChatMessage, ContentPart, GenerationOptions, ToolCall } from "../../providers/chat-provider.ts";
import { fileDataSchema, imageUrlSchema } from "../media-urls.ts";
import { latestUserInput } from "../openai/openai-schemas.ts";
import { unsupported } from "../validation.ts";

// The request body of POST /v1/responses, as OpenAI defines it (the fields this service uses), and its
// translation into the chat pipeline's conversation and generation options.
// https://platform.openai.com/docs/api-reference/responses/create

const inputText = z.object({ type: z.enum(["input_text", "output_text"]), text: z.string() });
const inputImage = z.object({
  type: z.literal("input_image"),
  image_url: imageUrlSchema.optional(),
  file_id: z.string().min(1).max(256).optional(),
  detail: z.enum(["auto", "low", "high"]).optional(),
});
const inputFile = z.object({
  type: z.literal("input_file"),
  filename: z.string().max(255).optional(),
  file_data: fileDataSchema.optional(),
  file_url: fileDataSchema.optional(),
  file_id: z.string().min(1).max(256).optional(),
});
const refusal = z.object({ type: z.literal("refusal"), refusal: z.string() });
const contentPart = z.discriminatedUnion("type", [inputText, inputImage, inputFile, refusal], {
  error: "type must be one of input_text, output_text, input_image, input_file, refusal",
});

const messageItem = z.object({
  type: z.literal("message").optional(),
  id: z.string().optional(),
  role: z.enum(["user", "assistant", "system", "developer"], {
    error: "must be one of user, assistant, system, developer",
  }),
  content: z.union([z.string(), z.array(contentPart)], {
    error: "must be a string or an array of input_text, input_image, input_file parts",
  }),
});
const functionCallItem = z.object({
  type: z.literal("function_call"),
  id: z.string().optional(),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
});
const functionCallOutputItem = z.object({
  type: z.literal("function_call_output"),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(contentPart)]),
});
// Reasoning a model returned earlier: nothing here can replay it, so it is left out.
const reasoningItem = z.object({ type: z.literal("reasoning") }).loose();
const itemReference = z.object({ type: z.literal("item_reference"), id: z.string().min(1) });

const inputItem = z.union(
  [messageItem, functionCallItem, functionCallOutputItem, reasoningItem, itemReference],
  {
    error: "must be a message, function_call, function_call_output or item_reference item",
  },
);

const functionTool = z.object({
  type: z.literal("function", { error: "only function tools are supported here" }),
  name: z.string().min(1),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});

const textFormat = z.discriminatedUnion(
  "type",
  [
    z.object({ type: z.literal("text") }),
    z.object({ type: z.literal("json_object") }),
    z.object({
      type: z.literal("json_schema"),
      name: z.string().min(1),
      schema: z.record(z.string(), z.unknown()),
      description: z.string().optional(),
      strict: z.boolean().nullish(),
    }),
  ],
  { error: "type must be one of text, json_object, json_schema" },
);

const reasoningEffort = z.enum(["xhigh", "high", "medium", "low", "minimal", "none"]);

// Documented parameters sent on to the upstream under their chat-completions names, as given.
const forwarded = {
  top_p: z.number().min(0).max(1).nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  prompt_cache_key: z.string().max(1024).nullish(),
  safety_identifier: z.string().max(1024).nullish(),
  service_tier: z.enum(["auto", "default", "flex", "scale", "priority"]).nullish(),
} as const;

// Strict: a misspelt or unknown field is refused by name; documented fields the service cannot honour are
// refused saying so.
export const responsesBodySchema = z.strictObject({
  model: modelIdSchema("is required: auto, a role such as medium_ai, or a model id"),
  input: z.union([z.string(), z.array(inputItem)], {
    error: "is required: a string or an array of input items",
  }),
  instructions: z.string().nullish(),
  previous_response_id: z.string().nullish(),
  tools: z.array(functionTool).nullish(),
  tool_choice: z
    .union([
      z.enum(["auto", "none", "required"]),
      z.object({ type: z.literal("function"), name: z.string().min(1) }),
    ])
    .nullish(),
  text: z.object({ format: textFormat.optional() }).loose().nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  user: z.string().nullish(),
  store: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  ...forwarded,
  reasoning: z
    .strictObject({
      effort: reasoningEffort.nullish(),
      summary: unsupported("reasoning summaries are not produced"),
      generate_summary: unsupported("reasoning summaries are not produced"),
    })
    .nullish(),
  // What the service does anyway: nothing is truncated, the answer is not run in the background.
  truncation: z
    .enum(["disabled", "auto"])
    .nullish()
    .refine((value) => value !== "auto", "is not supported here: only disabled (the input is never cut)"),
  background: z
    .boolean()
    .nullish()
    .refine((value) => value !== true, "is not supported here: responses are answered in the request"),
  // No reasoning items are returned, so asking for their encrypted content (as the Vercel AI SDK does with
  // store: false) is met as it stands; other extras are not produced.
  include: z
    .array(z.string())
    .nullish()
    .refine(
      (value) => (value ?? []).every((item) => item === "reasoning.encrypted_content"),
      "is not supported here: no extra output (logprobs, tool call results or sources) is returned",
    ),
  stream_options: z.object({ include_obfuscation: z.boolean().optional() }).nullish(),
  conversation: unsupported("send previous_response_id or the conversation as input"),
  prompt: unsupported("stored prompt templates are not kept here; send instructions and input"),
  max_tool_calls: unsupported("only function tools run here, and the client runs them"),
  top_logprobs: unsupported("log probabilities are not returned by this endpoint"),
  prompt_cache_retention: unsupported("the upstream decides how long prompts stay cached"),
  context_management: unsupported("the input is sent as given"),
  // Extension, as on /v1/chat/completions: answer from (and keep in) the response cache.
  cache: z.boolean().nullish(),
});

export type ResponsesBody = z.output<typeof responsesBodySchema>;

// What an item_reference or previous_response_id points at: the items of an earlier response.
export interface ItemLookup {
  item(id: string): ChatMessage | undefined;
  conversation(responseId: string): readonly ChatMessage[] | undefined;
}

export interface ConvertedResponsesRequest {
  readonly conversation: ChatMessage[];
  readonly message: string;
  readonly images: string[];
  readonly generation: GenerationOptions;
}

// OpenAI documents no limit on the number of input items; an agent's transcript (a call and its output per
// step) reaches the low thousands, and more items than this are a mistake or an attack.
export const maxInputItems = 4096;

// Before the body is validated item by item, which takes long enough for tens of thousands of items to hold up
// every other request.
export function assertInputItemCount(body: unknown): void {
  const input = typeof body === "object" && body !== null ? (body as { input?: unknown }).input : undefined;
  if (Array.isArray(input) && input.length > maxInputItems) {
    throw invalidRequest(
      "input",
      `${input.length} items, more than the limit of ${maxInputItems}; continue with previous_response_id, or send fewer items`,
    );
  }
}

// `maxExpandedChars`: how much text the conversation may hold once item_reference items and
// previous_response_id are replaced by what they point at (system.maxBodyBytes), so a small body cannot
// grow into gigabytes by naming one large stored item thousands of times.
export function convertResponsesRequest(
  body: ResponsesBody,
  lookup: ItemLookup,
  maxExpandedChars: number,
): ConvertedResponsesRequest {
  const earlier = body.previous_response_id ? lookup.conversation(body.previous_response_id) : [];
  if (earlier === undefined) {
    throw invalidRequest(
      "previous_response_id",
      `no response '${body.previous_response_id}' is kept here (responses are kept in memory for a while, unless store is false); send the conversation as input instead`,
    );
  }
  const items: readonly InputItem[] =
    typeof body.input === "string" ? [{ role: "user", content: body.input }] : body.input;
  const conversation = new SizedConversation(maxExpandedChars);
  if (body.instructions) conversation.push({ role: "system", content: body.instructions });
  for (const message of earlier) {
    if (!(body.instructions && message.role === "system")) conversation.push(message);
  }
  items.forEach((item, index) => {
    appendItem(conversation, item, lookup, index);
  });
  return {
    conversation: conversation.messages,
    ...latestUserInput(conversation.messages),
    generation: generationOf(body),
  };
}

// The conversation being built, refused as soon as its text passes the limit: before the rest is expanded.
class SizedConversation {
  readonly messages: ChatMessage[] = [];
  readonly #maxChars: number;
  #chars = 0;

  constructor(maxChars: number) {
    this.#maxChars = maxChars;
  }

  push(message: ChatMessage): void {
    this.#add(message);
    this.messages.push(message);
  }

  // The last message grown by one tool call.
  replaceLast(message: ChatMessage, added: ToolCall): void {
    this.#chars += added.function.arguments.length + added.function.name.length;
    this.#check();
    this.messages[this.messages.length - 1] = message;
  }

  #add(message: ChatMessage): void {
    this.#chars += charsOf(message);
    this.#check();
  }

  #check(): void {
    if (this.#chars <= this.#maxChars) return;
    throw new OrchestratorError({
      kind: "logical",
      code: "input_too_large",
      status: 413,
      field: "input",
      message: `input: the conversation, with item_reference items and previous_response_id replaced by what they refer to, holds more than ${this.#maxChars} characters, the limit (system.maxBodyBytes); refer to fewer or smaller items`,
    });
  }
}

function charsOf(message: ChatMessage): number {
  let chars = 0;
  if (typeof message.content === "string") chars += message.content.length;
  else for (const part of message.content) chars += partChars(part);
  for (const call of message.toolCalls ?? [])
    chars += call.function.arguments.length + call.function.name.length;
  return chars;
}

function partChars(part: ContentPart): number {
  switch (part.type) {
    case "text":
      return part.text.length;
    case "image":
      return part.url.length;
    case "file":
      return (part.fileData?.length ?? 0) + (part.fileId?.length ?? 0);
    case "audio":
      return part.data.length;
    case "refusal":
      return part.refusal.length;
  }
}

type MessageItem = z.output<typeof messageItem> | { role: "user"; content: string; type?: undefined };
type InputItem = z.output<typeof inputItem> | MessageItem;

function isMessage(item: InputItem): item is MessageItem {
  return item.type === undefined || item.type === "message";
}

function appendItem(
  conversation: SizedConversation,
  item: InputItem,
  lookup: ItemLookup,
  index: number,
): void {
  if (isMessage(item)) {
    const role = item.role === "developer" ? "system" : item.role;
    const content = typeof item.content === "string" ? item.content : item.content.map(toContentPart);
    conversation.push({ role, content });
    return;
  }
  switch (item.type) {
    case "function_call":
      // Consecutive calls belong to one assistant turn, as chat completions carry them.
      appendToolCall(conversation, {
        id: item.call_id,
        type: "function",
        function: { name: item.name, arguments: item.arguments },
      });
      return;
    case "function_call_output":
      conversation.push({
        role: "tool",
        toolCallId: item.call_id,
        content:
          typeof item.output === "string"
            ? item.output
            : item.output.map((part) => ("text" in part ? part.text : "")).join("\n"),
      });
      return;
    case "item_reference": {
      const referenced = lookup.item(item.id);
      if (!referenced) {
        throw invalidRequest(
          `input[${index}].id`,
          `no item '${item.id}' is kept here; send the item itself (or set store: false in the client)`,
        );
      }
      if (referenced.toolCalls && referenced.content === "") {
        for (const call of referenced.toolCalls) appendToolCall(conversation, call);
      } else conversation.push(referenced);
      return;
    }
    default:
      return;
  }
}

function appendToolCall(conversation: SizedConversation, call: ToolCall): void {
  const last = conversation.messages.at(-1);
  if (last?.role === "assistant" && last.toolCalls) {
    conversation.replaceLast({ ...last, toolCalls: [...last.toolCalls, call] }, call);
    return;
  }
  conversation.push({ role: "assistant", content: "", toolCalls: [call] });
}

function toContentPart(part: z.output<typeof contentPart>): ContentPart {
  switch (part.type) {
    case "input_text":
    case "output_text":
      return { type: "text", text: part.text };
    case "input_image":
      if (part.image_url === undefined) {
        // An uploaded file's id: passed on as a file part, which the upstream resolves.
        return { type: "file", ...(part.file_id ? { fileId: part.file_id } : {}) };
      }
      return { type: "image", url: part.image_url, ...(part.detail ? { detail: part.detail } : {}) };
    case "input_file":
      return {
        type: "file",
        ...(part.filename === undefined ? {} : { filename: part.filename }),
        ...((part.file_data ?? part.file_url) === undefined
          ? {}
          : { fileData: part.file_data ?? part.file_url }),
        ...(part.file_id === undefined ? {} : { fileId: part.file_id }),
      };
    case "refusal":
      return { type: "refusal", refusal: part.refusal };
  }
}

function generationOf(body: ResponsesBody): GenerationOptions {
  const format = body.text?.format;
  const responseFormat =
    format === undefined || format.type === "text"
      ? undefined
      : format.type === "json_object"
        ? { type: "json_object" }
        : {
            type: "json_schema",
            json_schema: {
              name: format.name,
              schema: format.schema,
              ...(format.description === undefined ? {} : { description: format.description }),
              ...(format.strict == null ? {} : { strict: format.strict }),
            },
          };
  const tools = body.tools?.map((tool) => ({
    type: "function",
    function: {
      name: tool.name,
      ...(tool.description == null ? {} : { description: tool.description }),
      ...(tool.parameters == null ? {} : { parameters: tool.parameters }),
      ...(tool.strict == null ? {} : { strict: tool.strict }),
    },
  }));
  const toolChoice =
    body.tool_choice == null || typeof body.tool_choice === "string"
      ? body.tool_choice
      : { type: "function", function: { name: body.tool_choice.name } };
  const upstreamParams = Object.fromEntries(
    Object.keys(forwarded).flatMap((name) => {
      const value = body[name as keyof typeof forwarded];
      return value == null ? [] : [[name, value]];
    }),
  );
  const effort = body.reasoning?.effort;
  return {
    ...(body.temperature == null ? {} : { temperature: body.temperature }),
    ...(body.max_output_tokens == null ? {} : { maxTokens: body.max_output_tokens }),
    ...(effort == null ? {} : { reasoning: { effort } }),
    ...(Object.keys(upstreamParams).length > 0 ? { upstreamParams } : {}),
    ...(responseFormat === undefined ? {} : { responseFormat }),
    ...(tools === undefined ? {} : { tools }),
    ...(toolChoice == null ? {} : { toolChoice }),
    ...(body.user == null ? {} : { user: body.user }),
  };
}
