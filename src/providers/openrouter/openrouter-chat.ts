import type { ChatCompletion, ChatCompletionChunk } from "openai/resources/chat/completions";
import type { ChatRequest, ChatResult, ChatStreamEvent, ChatUsage } from "../chat-provider.ts";
import { ToolCallAssembler } from "../provider-call.ts";
import { buildRequest } from "../upstream-http.ts";
import {
  callDeadline,
  classifyCallError,
  type OpenRouterConnection,
  withDeadline,
} from "./openrouter-call.ts";
import { truncated } from "./wire-errors.ts";
import { chatBody } from "./wire-request.ts";
import { readCompletion } from "./wire-response.ts";
import { parseChunk } from "./wire-stream.ts";
import { readUsage } from "./wire-usage.ts";

export function completeChat(connection: OpenRouterConnection, request: ChatRequest): Promise<ChatResult> {
  return withDeadline(connection, request, async (signal) => {
    const completion = (await connection.http.postJson(
      "/chat/completions",
      buildRequest(() => ({ ...chatBody(request), stream: false })),
      signal,
    )) as ChatCompletion & { error?: unknown };
    return readCompletion(completion, request.model);
  });
}

export async function* streamChat(
  connection: OpenRouterConnection,
  request: ChatRequest,
): AsyncIterable<ChatStreamEvent> {
  const deadline = callDeadline(connection, request);
  try {
    const body = buildRequest(() => ({
      ...chatBody(request),
      stream: true,
      stream_options: { include_usage: true },
    }));
    let content = "";
    let model = request.model;
    let finishReason: string | undefined;
    let sawDone = false;
    let usage: ChatUsage = { promptTokens: 0, completionTokens: 0 };
    const toolCalls = new ToolCallAssembler();
    // The raw event stream, so an answer cut off before both [DONE] and a finish_reason is told apart
    // from a complete one.
    for await (const data of connection.http.postEvents("/chat/completions", body, deadline.signal)) {
      if (data === "[DONE]") {
        sawDone = true;
        break;
      }
      const chunk = parseChunk(data, request.model);
      if (chunk.model) model = chunk.model;
      if (chunk.usage) usage = readUsage(chunk.usage);
      const choice: ChatCompletionChunk.Choice | undefined = chunk.choices?.[0];
      if (choice?.finish_reason) finishReason = choice.finish_reason;
      const text = choice?.delta?.content;
      if (text) {
        content += text;
        yield { type: "delta", text };
      }
      const toolDeltas = choice?.delta?.tool_calls;
      if (toolDeltas && toolDeltas.length > 0) {
        toolCalls.add(toolDeltas);
        yield { type: "tool_call_delta", deltas: toolDeltas };
      }
    }
    // A cut-off answer must not pass for a whole one.
    if (deadline.signal.aborted) throw new Error("the call was stopped");
    if (!sawDone && finishReason === undefined) throw truncated(request.model, content.length);
    const calls = toolCalls.calls();
    yield {
      type: "done",
      result: {
        content,
        model,
        finishReason: finishReason ?? "stop",
        usage,
        ...(calls.length > 0 ? { toolCalls: calls } : {}),
      },
    };
  } catch (error) {
    throw classifyCallError(error, request, deadline);
  } finally {
    deadline.dispose();
  }
}
