import { z } from "zod";
import type { OrchestratorError } from "../../core/errors.ts";
import type { TokenUsage } from "../../core/usage.ts";
import type { ToolCall } from "../../providers/chat-provider.ts";
import { anthropicInputTokens } from "../usage-details.ts";
import { orchestratorSchema } from "../views.ts";

// The Message object and error shape of Anthropic's Messages API, so the Anthropic SDK reads the service's
// answers and raises its own typed errors. https://docs.anthropic.com/en/api/messages
// https://docs.anthropic.com/en/api/errors

export const messagesUsageSchema = z.object({
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cache_creation_input_tokens: z.number().int(),
  cache_read_input_tokens: z.number().int(),
});

export const messageObjectSchema = z.object({
  id: z.string(),
  type: z.literal("message"),
  role: z.literal("assistant"),
  model: z.string(),
  content: z.array(
    z.discriminatedUnion("type", [
      z.object({ type: z.literal("text"), text: z.string() }),
      z.object({
        type: z.literal("tool_use"),
        id: z.string(),
        name: z.string(),
        input: z.record(z.string(), z.unknown()),
      }),
    ]),
  ),
  stop_reason: z.enum(["end_turn", "max_tokens", "tool_use"]),
  stop_sequence: z.null(),
  usage: messagesUsageSchema,
  orchestrator: orchestratorSchema,
});

export const anthropicErrorBodySchema = z.object({
  type: z.literal("error"),
  error: z.object({
    type: z
      .string()
      .describe(
        "invalid_request_error, authentication_error, not_found_error, rate_limit_error, overloaded_error, api_error, ...",
      ),
    message: z.string(),
  }),
});

export function stopReason(finishReason: string): "end_turn" | "max_tokens" | "tool_use" {
  if (finishReason === "length") return "max_tokens";
  if (finishReason === "tool_calls" || finishReason === "function_call") return "tool_use";
  return "end_turn";
}

export function toolUseBlock(call: ToolCall) {
  return {
    type: "tool_use" as const,
    id: call.id,
    name: call.function.name,
    input: parseInput(call.function.arguments),
  };
}

// A tool's input is an object; arguments a model left unparseable arrive as an empty one rather than
// failing the whole answer.
export function parseInput(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text === "" ? "{}" : text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

export function usageView(usage: TokenUsage): z.output<typeof messagesUsageSchema> {
  const { input_tokens, cache_creation_input_tokens, cache_read_input_tokens } = anthropicInputTokens(usage);
  return {
    input_tokens,
    output_tokens: usage.completionTokens,
    cache_creation_input_tokens,
    cache_read_input_tokens,
  };
}

export function toAnthropicErrorBody(error: OrchestratorError): z.output<typeof anthropicErrorBodySchema> {
  return { type: "error" as const, error: { type: anthropicType(error.status), message: error.message } };
}

function anthropicType(status: number): string {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 402:
      return "billing_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 503:
    case 529:
      return "overloaded_error";
    default:
      return status < 500 ? "invalid_request_error" : "api_error";
  }
}
