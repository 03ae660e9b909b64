import type { ServerResponse } from "node:http";
import {
  type FakeUpstream,
  pieces,
  pipelineReply,
  startEvents,
  startFakeUpstream,
  type UpstreamReply,
  type UpstreamRequest,
  writeEvent,
} from "./fake-upstream.ts";
import { sendJson } from "./http-helpers.ts";

// A protocol-faithful stand-in for OpenAI's Chat Completions API and any server that speaks it (Ollama,
// vLLM, llama.cpp, LM Studio), written from OpenAI's reference:
// - the chat completion object: https://platform.openai.com/docs/api-reference/chat/object
// - streaming chunks, data-only events ending in `data: [DONE]`, usage in a last chunk with empty choices
//   when stream_options.include_usage is set: https://platform.openai.com/docs/api-reference/chat-streaming
// - cached prompt tokens in usage.prompt_tokens_details.cached_tokens (counted in prompt_tokens):
//   https://platform.openai.com/docs/guides/prompt-caching
// - error bodies {"error": {"message", "type", "param", "code"}}: https://platform.openai.com/docs/guides/error-codes
// - embeddings: https://platform.openai.com/docs/api-reference/embeddings/object

export function openAiView(request: UpstreamRequest) {
  const messages = (request.body?.messages ?? []) as Array<{ role: string; content: unknown }>;
  const text = (content: unknown) =>
    typeof content === "string"
      ? content
      : Array.isArray(content)
        ? content.map((part: { text?: string }) => part.text ?? "").join("\n")
        : "";
  const system = messages
    .filter((m) => m.role === "system")
    .map((m) => text(m.content))
    .join("\n");
  const lastUser = text([...messages].reverse().find((m) => m.role === "user")?.content);
  return {
    model: String(request.body?.model ?? ""),
    system,
    lastUser,
    stream: request.body?.stream === true,
  };
}

export function startFakeOpenAi(
  options: { label?: (lastUser: string) => string } = {},
): Promise<FakeUpstream> {
  return startFakeUpstream({
    basePath: "/v1",
    fallback: (request) => pipelineReply(openAiView(request), options.label),
    other: (request, res) => {
      if (!request.path.endsWith("/embeddings")) return false;
      const input = request.body.input as string[];
      sendJson(res, 200, {
        object: "list",
        data: input.map((text, index) => ({
          object: "embedding",
          index,
          embedding: [text.length, index, 1],
        })),
        model: request.body.model,
        usage: { prompt_tokens: input.length * 3, total_tokens: input.length * 3 },
      });
      return true;
    },
    write,
  });
}

function write(request: UpstreamRequest, reply: UpstreamReply, res: ServerResponse): void {
  const model = String(request.body?.model ?? "");
  if (reply.kind === "error") {
    sendJson(
      res,
      reply.status,
      {
        error: {
          message: reply.message,
          type: reply.errorType ?? "invalid_request_error",
          param: null,
          code: null,
        },
      },
      reply.retryAfterSeconds === undefined ? {} : { "retry-after": String(reply.retryAfterSeconds) },
    );
    return;
  }
  const id = `chatcmpl-${Date.now()}`;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
    id,
    object: "chat.completion.chunk",
    created,
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  if (reply.kind === "midstream-error" || reply.kind === "truncated") {
    startEvents(res);
    writeEvent(res, chunk({ role: "assistant", content: reply.contentBefore }, null));
    if (reply.kind === "midstream-error") {
      writeEvent(res, {
        error: { message: reply.message, type: reply.errorType ?? "server_error", code: null },
      });
    }
    res.end();
    return;
  }
  const usage = {
    prompt_tokens: reply.promptTokens ?? 10,
    completion_tokens: reply.completionTokens ?? 5,
    total_tokens: (reply.promptTokens ?? 10) + (reply.completionTokens ?? 5),
    prompt_tokens_details: { cached_tokens: reply.cacheReadTokens ?? 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
  const calls = (reply.toolCalls ?? []).map((call) => ({
    id: call.id,
    type: "function",
    function: { name: call.name, arguments: call.arguments },
  }));
  const finish = reply.finishReason ?? (calls.length > 0 ? "tool_calls" : "stop");
  if (!request.body?.stream) {
    sendJson(res, 200, {
      id,
      object: "chat.completion",
      created,
      model: reply.model ?? model,
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: calls.length > 0 && !reply.content ? null : reply.content,
            refusal: null,
            ...(calls.length > 0 ? { tool_calls: calls } : {}),
          },
          logprobs: null,
          finish_reason: finish,
        },
      ],
      usage,
    });
    return;
  }
  startEvents(res);
  writeEvent(res, chunk({ role: "assistant", content: "" }, null));
  for (const piece of pieces(reply.content, reply.chunkSize))
    writeEvent(res, chunk({ content: piece }, null));
  calls.forEach((call, index) => {
    writeEvent(
      res,
      chunk(
        {
          tool_calls: [
            { index, id: call.id, type: "function", function: { name: call.function.name, arguments: "" } },
          ],
        },
        null,
      ),
    );
    writeEvent(
      res,
      chunk({ tool_calls: [{ index, function: { arguments: call.function.arguments } }] }, null),
    );
  });
  writeEvent(res, chunk({}, finish));
  if (request.body?.stream_options?.include_usage) {
    writeEvent(res, { id, object: "chat.completion.chunk", created, model, choices: [], usage });
  }
  writeEvent(res, "[DONE]");
  res.end();
}
