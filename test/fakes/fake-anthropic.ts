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

// A protocol-faithful stand-in for Anthropic's Messages API (POST /v1/messages), written from its reference:
// - the message object (content blocks, stop_reason, usage): https://docs.anthropic.com/en/api/messages
// - streaming: named events message_start, content_block_start, ping, content_block_delta (text_delta,
//   input_json_delta), content_block_stop, message_delta (stop_reason and cumulative usage), message_stop,
//   and error events mid-stream: https://docs.anthropic.com/en/docs/build-with-claude/streaming
// - usage: input_tokens leaves out cache_read_input_tokens and cache_creation_input_tokens:
//   https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching
// - errors {"type": "error", "error": {"type", "message"}}, 529 overloaded_error:
//   https://docs.anthropic.com/en/api/errors

export function anthropicView(request: UpstreamRequest) {
  const text = (content: unknown): string =>
    typeof content === "string"
      ? content
      : Array.isArray(content)
        ? content
            .map((block: { type?: string; text?: string }) =>
              block.type === "text" ? (block.text ?? "") : "",
            )
            .join("\n")
        : "";
  const messages = (request.body?.messages ?? []) as Array<{ role: string; content: unknown }>;
  const lastUser = text([...messages].reverse().find((m) => m.role === "user")?.content);
  return {
    model: String(request.body?.model ?? ""),
    system: text(request.body?.system),
    lastUser,
    stream: request.body?.stream === true,
  };
}

const statusType: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};

export function startFakeAnthropic(
  options: { label?: (lastUser: string) => string } = {},
): Promise<FakeUpstream> {
  return startFakeUpstream({
    basePath: "",
    fallback: (request) => pipelineReply(anthropicView(request), options.label),
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
        type: "error",
        error: { type: reply.errorType ?? statusType[reply.status] ?? "api_error", message: reply.message },
        request_id: "req_fake",
      },
      reply.retryAfterSeconds === undefined ? {} : { "retry-after": String(reply.retryAfterSeconds) },
    );
    return;
  }
  const id = `msg_${Date.now()}`;
  const cacheRead = reply.kind === "text" ? (reply.cacheReadTokens ?? 0) : 0;
  const cacheWrite = reply.kind === "text" ? (reply.cacheWriteTokens ?? 0) : 0;
  const prompt = reply.kind === "text" ? (reply.promptTokens ?? 10) : 10;
  // input_tokens: the prompt tokens neither read from nor written to the cache.
  const usage = {
    input_tokens: prompt - cacheRead - cacheWrite,
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: cacheRead,
    output_tokens: reply.kind === "text" ? (reply.completionTokens ?? 5) : 1,
  };
  const calls = reply.kind === "text" ? (reply.toolCalls ?? []) : [];
  const stopReason =
    reply.kind === "text" ? (reply.finishReason ?? (calls.length > 0 ? "tool_use" : "end_turn")) : null;
  if (!request.body?.stream) {
    sendJson(res, 200, {
      id,
      type: "message",
      role: "assistant",
      model: (reply.kind === "text" && reply.model) || model,
      content: [
        ...(reply.kind === "text" && reply.content ? [{ type: "text", text: reply.content }] : []),
        ...calls.map((call) => ({
          type: "tool_use",
          id: call.id,
          name: call.name,
          input: JSON.parse(call.arguments),
        })),
      ],
      stop_reason: stopReason,
      stop_sequence: null,
      usage,
    });
    return;
  }
  startEvents(res);
  const send = (data: { type: string } & Record<string, unknown>) => writeEvent(res, data, data.type);
  send({
    type: "message_start",
    message: {
      id,
      type: "message",
      role: "assistant",
      content: [],
      model,
      stop_reason: null,
      stop_sequence: null,
      usage: { ...usage, output_tokens: 1 },
    },
  });
  send({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
  send({ type: "ping" });
  const text = reply.kind === "text" ? reply.content : reply.contentBefore;
  for (const piece of pieces(text, reply.kind === "text" ? reply.chunkSize : undefined)) {
    send({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: piece } });
  }
  if (reply.kind === "midstream-error") {
    send({ type: "error", error: { type: reply.errorType ?? "overloaded_error", message: reply.message } });
    res.end();
    return;
  }
  if (reply.kind === "truncated") {
    res.end();
    return;
  }
  send({ type: "content_block_stop", index: 0 });
  calls.forEach((call, offset) => {
    const index = offset + 1;
    send({
      type: "content_block_start",
      index,
      content_block: { type: "tool_use", id: call.id, name: call.name, input: {} },
    });
    for (const piece of pieces(call.arguments, 8)) {
      send({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: piece } });
    }
    send({ type: "content_block_stop", index });
  });
  send({
    type: "message_delta",
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: usage.output_tokens },
  });
  send({ type: "message_stop" });
  res.end();
}
