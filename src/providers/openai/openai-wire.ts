import type { ChatMessage, ChatRequest, ChatUsage, ContentPart } from "../chat-provider.ts";
import { joinedText, parameterNotSupported, unsupportedParams } from "../provider-call.ts";

// The request and usage mapping of OpenAI's Chat Completions API
// (https://platform.openai.com/docs/api-reference/chat/create), which local servers (Ollama, vLLM,
// llama.cpp, LM Studio) and Azure OpenAI speak too.

// Request parameters OpenAI documents beyond the ones ChatRequest names; OpenRouter's routing parameters
// (provider, models, route, transforms) and its extra samplers (top_a) mean nothing here.
const forwarded = new Set([
  "seed",
  "top_p",
  "presence_penalty",
  "frequency_penalty",
  "logit_bias",
  "logprobs",
  "top_logprobs",
  "parallel_tool_calls",
  "metadata",
  "prediction",
  "service_tier",
  "verbosity",
  "web_search_options",
  "prompt_cache_key",
  "safety_identifier",
  "functions",
  "function_call",
  // Not OpenAI's, but vLLM, llama.cpp and Ollama take them; OpenAI itself answers 400, said as such.
  "top_k",
  "min_p",
  "repetition_penalty",
]);

export interface OpenAiWireOptions {
  readonly provider: string;
  // OpenAI's own API wants max_completion_tokens (max_tokens is refused by its reasoning models); other
  // OpenAI-compatible servers document max_tokens.
  readonly maxTokensField: "max_completion_tokens" | "max_tokens";
}

export function openAiBody(request: ChatRequest, options: OpenAiWireOptions): Record<string, unknown> {
  const refused = unsupportedParams(request.upstreamParams, forwarded);
  if (refused.length > 0) {
    throw parameterNotSupported(
      options.provider,
      request.model,
      refused,
      "they are OpenRouter's routing parameters, which an OpenAI-compatible API does not take",
    );
  }
  if (request.reasoning?.maxTokens !== undefined) {
    throw parameterNotSupported(
      options.provider,
      request.model,
      ["reasoning.max_tokens"],
      "OpenAI's API takes a reasoning effort (reasoning_effort), not a token budget",
    );
  }
  return {
    ...request.upstreamParams,
    model: request.model,
    messages: request.messages.map(toWireMessage),
    // OpenAI's reasoning models take only the default temperature while they reason
    // (https://platform.openai.com/docs/guides/reasoning); the service's own temperature 0 calls still run.
    ...(request.temperature === undefined || reasons(request) ? {} : { temperature: request.temperature }),
    ...(request.maxTokens === undefined ? {} : { [options.maxTokensField]: request.maxTokens }),
    ...(request.responseFormat === undefined ? {} : { response_format: request.responseFormat }),
    ...(request.tools === undefined ? {} : { tools: request.tools }),
    ...(request.toolChoice === undefined ? {} : { tool_choice: request.toolChoice }),
    ...(request.user === undefined ? {} : { user: request.user }),
    ...(request.stop === undefined ? {} : { stop: [...request.stop] }),
    ...(request.reasoning?.effort === undefined ? {} : { reasoning_effort: request.reasoning.effort }),
  };
}

function reasons(request: ChatRequest): boolean {
  const effort = request.reasoning?.effort;
  return effort !== undefined && effort !== "none";
}

function toWireMessage(message: ChatMessage): Record<string, unknown> {
  const name = message.name ? { name: message.name } : {};
  switch (message.role) {
    case "tool":
      return { role: "tool", content: joinedText(message.content), tool_call_id: message.toolCallId ?? "" };
    case "function":
      return { role: "function", name: message.name ?? "", content: joinedText(message.content) };
    case "system":
      return { role: "system", content: joinedText(message.content), ...name };
    case "assistant": {
      const text = joinedText(message.content);
      const refusal =
        typeof message.content === "string"
          ? undefined
          : message.content.find((part) => part.type === "refusal");
      // A turn that only called tools has no content, as OpenAI sends it: null, not "".
      const calls = message.toolCalls ?? message.functionCall;
      return {
        role: "assistant",
        content: text === "" && calls ? null : text,
        ...name,
        ...(refusal?.type === "refusal" ? { refusal: refusal.refusal } : {}),
        ...(message.toolCalls ? { tool_calls: message.toolCalls } : {}),
        ...(message.functionCall ? { function_call: message.functionCall } : {}),
      };
    }
    case "user":
      if (typeof message.content === "string") return { role: "user", content: message.content, ...name };
      return { role: "user", content: message.content.flatMap(userPart), ...name };
  }
}

function userPart(part: ContentPart): Record<string, unknown>[] {
  switch (part.type) {
    case "text":
      return [{ type: "text", text: part.text }];
    case "image":
      return [
        { type: "image_url", image_url: { url: part.url, ...(part.detail ? { detail: part.detail } : {}) } },
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
      return [{ type: "input_audio", input_audio: { data: part.data, format: part.format } }];
    case "refusal":
      return [{ type: "text", text: part.refusal }];
  }
}

export interface OpenAiUsage {
  readonly prompt_tokens?: number;
  readonly completion_tokens?: number;
  readonly prompt_tokens_details?: { readonly cached_tokens?: number | null } | null;
  readonly completion_tokens_details?: { readonly reasoning_tokens?: number | null } | null;
}

// prompt_tokens counts the cached ones (prompt_tokens_details.cached_tokens) already; OpenAI reports no
// cache writes (https://platform.openai.com/docs/guides/prompt-caching).
export function openAiUsage(usage: OpenAiUsage | null | undefined): ChatUsage {
  const reasoning = usage?.completion_tokens_details?.reasoning_tokens;
  const cached = usage?.prompt_tokens_details?.cached_tokens;
  return {
    promptTokens: usage?.prompt_tokens ?? 0,
    completionTokens: usage?.completion_tokens ?? 0,
    ...(typeof reasoning === "number" && reasoning > 0 ? { reasoningTokens: reasoning } : {}),
    ...(typeof cached === "number" && cached > 0 ? { cacheReadTokens: cached } : {}),
  };
}
