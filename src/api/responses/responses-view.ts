import { z } from "zod";
import type { TokenUsage } from "../../core/usage.ts";
import type { ToolCall } from "../../providers/chat-provider.ts";
import { orchestratorSchema } from "../views.ts";
import type { ResponsesBody } from "./responses-request.ts";

// The Response object and its output items, as OpenAI's Responses API returns them.
// https://platform.openai.com/docs/api-reference/responses/object

const itemStatus = z.enum(["in_progress", "completed"]);

export const responsesUsageSchema = z.object({
  input_tokens: z.number().int(),
  input_tokens_details: z.object({ cached_tokens: z.number().int() }),
  output_tokens: z.number().int(),
  output_tokens_details: z.object({ reasoning_tokens: z.number().int() }),
  total_tokens: z.number().int(),
});

export const responseObjectSchema = z.object({
  id: z.string(),
  object: z.literal("response"),
  created_at: z.number().int(),
  status: z.enum(["in_progress", "completed", "incomplete"]),
  error: z.null(),
  incomplete_details: z.object({ reason: z.literal("max_output_tokens") }).nullable(),
  instructions: z.string().nullable(),
  max_output_tokens: z.number().int().nullable(),
  model: z.string(),
  output: z.array(
    z.discriminatedUnion("type", [
      z.object({
        type: z.literal("message"),
        id: z.string(),
        status: itemStatus,
        role: z.literal("assistant"),
        content: z.array(
          z.object({
            type: z.literal("output_text"),
            text: z.string(),
            annotations: z.array(z.unknown()),
            logprobs: z.array(z.unknown()),
          }),
        ),
      }),
      z.object({
        type: z.literal("function_call"),
        id: z.string(),
        call_id: z.string(),
        name: z.string(),
        arguments: z.string(),
        status: itemStatus,
      }),
    ]),
  ),
  output_text: z.string(),
  parallel_tool_calls: z.boolean(),
  previous_response_id: z.string().nullable(),
  reasoning: z.object({ effort: z.null(), summary: z.null() }),
  store: z.boolean(),
  temperature: z.number().nullable(),
  text: z.object({ format: z.looseObject({ type: z.enum(["text", "json_object", "json_schema"]) }) }),
  tool_choice: z.union([z.string(), z.looseObject({ type: z.string() })]),
  tools: z.array(z.looseObject({ type: z.string() })),
  top_p: z.null(),
  truncation: z.literal("disabled"),
  usage: responsesUsageSchema.nullable(),
  user: z.string().nullable(),
  metadata: z.record(z.string(), z.string()),
  orchestrator: orchestratorSchema.optional(),
});

export interface ResponseShell {
  readonly id: string;
  readonly createdAt: number;
  readonly body: ResponsesBody;
}

export type OutputItem = ReturnType<typeof messageItem> | ReturnType<typeof functionCallItem>;

export function messageItem(id: string, text: string, status: "in_progress" | "completed") {
  return {
    type: "message" as const,
    id,
    status,
    role: "assistant" as const,
    content: status === "in_progress" && text === "" ? [] : [outputText(text)],
  };
}

export function outputText(text: string) {
  return { type: "output_text" as const, text, annotations: [], logprobs: [] };
}

export function functionCallItem(id: string, call: ToolCall, status: "in_progress" | "completed") {
  return {
    type: "function_call" as const,
    id,
    call_id: call.id,
    name: call.function.name,
    arguments: call.function.arguments,
    status,
  };
}

export function usageView(usage: TokenUsage): z.output<typeof responsesUsageSchema> {
  return {
    input_tokens: usage.promptTokens,
    input_tokens_details: { cached_tokens: usage.cacheReadTokens ?? 0 },
    output_tokens: usage.completionTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
}

export interface ResponseState {
  readonly status: "in_progress" | "completed" | "incomplete";
  readonly model: string;
  readonly output: readonly OutputItem[];
  readonly usage?: ReturnType<typeof usageView>;
  readonly orchestrator?: z.output<typeof orchestratorSchema>;
}

export function responseObject(
  shell: ResponseShell,
  state: ResponseState,
): z.output<typeof responseObjectSchema> {
  const { body } = shell;
  const text = state.output
    .flatMap((item) => (item.type === "message" ? item.content.map((part) => part.text) : []))
    .join("");
  return {
    id: shell.id,
    object: "response" as const,
    created_at: shell.createdAt,
    status: state.status,
    error: null,
    incomplete_details: state.status === "incomplete" ? { reason: "max_output_tokens" } : null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model: state.model,
    output: [...state.output],
    output_text: text,
    parallel_tool_calls: true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: null, summary: null },
    store: body.store ?? true,
    temperature: body.temperature ?? null,
    text: { format: body.text?.format ?? { type: "text" } },
    tool_choice: body.tool_choice ?? "auto",
    tools: body.tools ?? [],
    top_p: null,
    truncation: "disabled",
    usage: state.usage ?? null,
    user: body.user ?? null,
    metadata: body.metadata ?? {},
    ...(state.orchestrator ? { orchestrator: state.orchestrator } : {}),
  };
}
