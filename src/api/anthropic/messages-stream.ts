import type { FastifyReply } from "fastify";
import type { ChatEvent, ChatReply } from "../../chat/chat-service.ts";
import { toOrchestratorError } from "../../core/errors.ts";
import { addTokens, type Usage } from "../../core/usage.ts";
import { routeHeaders } from "../completion-stream.ts";
import { EventStream } from "../event-stream.ts";
import { openChatStream } from "../open-chat-stream.ts";
import { relayChatEvents } from "../relay-chat-events.ts";
import { stopReason, toAnthropicErrorBody, usageView } from "./messages-view.ts";

export interface MessagesStreamOptions {
  readonly id: string;
  readonly describeReply: (reply: ChatReply, extraCostUsd: number) => Record<string, unknown>;
  // Text to append after the model's own, such as the finished answer of a background workflow.
  readonly continueWith?: (reply: ChatReply) => Promise<{ text: string; usage: Usage } | undefined>;
}

// Streams a chat run as the Messages API's events: message_start, then per content block
// content_block_start, its deltas (text_delta, input_json_delta) and content_block_stop, then message_delta
// with the stop reason and usage, and message_stop. Nothing is sent before the answer's first event, so
// earlier failures keep their HTTP status; a later one is an `error` event.
// https://docs.anthropic.com/en/docs/build-with-claude/streaming
export async function streamMessage(
  reply: FastifyReply,
  events: AsyncGenerator<ChatEvent, void, undefined>,
  options: MessagesStreamOptions,
): Promise<void> {
  const opened = await openChatStream(events);
  const stream = new EventStream(reply, routeHeaders(opened.route));
  const send = (type: string, payload: Record<string, unknown> = {}) =>
    stream.sendEvent(type, { type, ...payload });
  let blocks = 0;
  let textBlock: number | undefined;
  const toolBlocks = new Map<number, number>();

  const closeText = async () => {
    if (textBlock === undefined) return;
    await send("content_block_stop", { index: textBlock });
    textBlock = undefined;
  };
  const addText = async (text: string) => {
    if (textBlock === undefined) {
      textBlock = blocks++;
      await send("content_block_start", { index: textBlock, content_block: { type: "text", text: "" } });
    }
    await send("content_block_delta", { index: textBlock, delta: { type: "text_delta", text } });
  };

  try {
    await send("message_start", {
      message: {
        id: options.id,
        type: "message",
        role: "assistant",
        model: opened.route.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 0, output_tokens: 0 },
      },
    });
    const done = await relayChatEvents(opened.events, stream, {
      text: addText,
      toolStart: async (step) => {
        await closeText();
        const index = blocks++;
        toolBlocks.set(step.index, index);
        await send("content_block_start", {
          index,
          content_block: { type: "tool_use", id: step.id, name: step.name, input: {} },
        });
      },
      toolArguments: async (step) => {
        const index = toolBlocks.get(step.index);
        if (index === undefined) return;
        await send("content_block_delta", {
          index,
          delta: { type: "input_json_delta", partial_json: step.delta },
        });
      },
    });
    if (!done) return;
    const more = options.continueWith ? await options.continueWith(done) : undefined;
    if (more) await addText(more.text);
    await closeText();
    for (const index of toolBlocks.values()) await send("content_block_stop", { index });
    const extra = more?.usage ?? { promptTokens: 0, completionTokens: 0, costUsd: 0 };
    await send("message_delta", {
      delta: { stop_reason: stopReason(done.finishReason), stop_sequence: null },
      usage: usageView(addTokens(done.usage, extra)),
      orchestrator: options.describeReply(done, extra.costUsd),
    });
    await send("message_stop");
  } catch (raw) {
    const error = toOrchestratorError(raw);
    reply.log.warn({ code: error.code }, "stream ended with an error");
    await send("error", { error: toAnthropicErrorBody(error).error });
  } finally {
    stream.end();
  }
}
