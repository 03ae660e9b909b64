import type { FastifyReply } from "fastify";
import type { ChatEvent, ChatReply } from "../../chat/chat-service.ts";
import { toOrchestratorError } from "../../core/errors.ts";
import { addTokens, type Usage } from "../../core/usage.ts";
import type { ToolCall } from "../../providers/chat-provider.ts";
import { routeHeaders } from "../completion-stream.ts";
import { EventStream } from "../event-stream.ts";
import { openChatStream } from "../open-chat-stream.ts";
import { toOpenAiErrorBody } from "../openai/openai-errors.ts";
import { relayChatEvents } from "../relay-chat-events.ts";
import type { orchestratorView } from "../views.ts";
import {
  functionCallItem,
  messageItem,
  type OutputItem,
  outputText,
  type ResponseShell,
  responseObject,
  usageView,
} from "./responses-view.ts";

export interface ResponsesStreamOptions {
  readonly shell: ResponseShell;
  readonly newItemId: (prefix: "msg" | "fc") => string;
  readonly describeReply: (reply: ChatReply, extraCostUsd: number) => ReturnType<typeof orchestratorView>;
  // Text to append after the model's own, such as the finished answer of a background workflow.
  readonly continueWith?: (reply: ChatReply) => Promise<{ text: string; usage: Usage } | undefined>;
  readonly onCompleted?: (output: readonly OutputItem[]) => void;
}

interface OpenCall {
  readonly itemId: string;
  readonly outputIndex: number;
  readonly callId: string;
  readonly name: string;
  arguments: string;
}

// Streams a chat run as the Responses API's semantic events: response.created, then per output item
// output_item.added, its deltas (output_text.delta, function_call_arguments.delta) and output_item.done,
// then response.completed with the usage. Like chat completions, nothing is sent before the answer's first
// event, so earlier failures keep their HTTP status; a later one is an `error` event.
// https://platform.openai.com/docs/api-reference/responses-streaming
export async function streamResponse(
  reply: FastifyReply,
  events: AsyncGenerator<ChatEvent, void, undefined>,
  options: ResponsesStreamOptions,
): Promise<void> {
  const opened = await openChatStream(events);
  const { shell } = options;
  const stream = new EventStream(reply, routeHeaders(opened.route));
  let sequence = 0;
  const send = (type: string, payload: Record<string, unknown>) =>
    stream.sendEvent(type, { type, sequence_number: sequence++, ...payload });
  const output: OutputItem[] = [];
  let model = opened.route.model;
  let message: { itemId: string; outputIndex: number; text: string } | undefined;
  const calls = new Map<number, OpenCall>();

  const openMessage = async () => {
    if (message) return message;
    message = { itemId: options.newItemId("msg"), outputIndex: output.length, text: "" };
    output.push(messageItem(message.itemId, "", "in_progress"));
    await send("response.output_item.added", {
      output_index: message.outputIndex,
      item: messageItem(message.itemId, "", "in_progress"),
    });
    await send("response.content_part.added", {
      item_id: message.itemId,
      output_index: message.outputIndex,
      content_index: 0,
      part: outputText(""),
    });
    return message;
  };
  const addText = async (delta: string) => {
    const open = await openMessage();
    open.text += delta;
    await send("response.output_text.delta", {
      item_id: open.itemId,
      output_index: open.outputIndex,
      content_index: 0,
      delta,
      logprobs: [],
    });
  };
  const closeMessage = async () => {
    if (!message) return;
    const { itemId, outputIndex, text } = message;
    const base = { item_id: itemId, output_index: outputIndex, content_index: 0 };
    await send("response.output_text.done", { ...base, text, logprobs: [] });
    await send("response.content_part.done", { ...base, part: outputText(text) });
    const item = messageItem(itemId, text, "completed");
    output[outputIndex] = item;
    await send("response.output_item.done", { output_index: outputIndex, item });
    message = undefined;
  };
  const toolCallOf = (call: OpenCall): ToolCall => ({
    id: call.callId,
    type: "function",
    function: { name: call.name, arguments: call.arguments },
  });

  try {
    await send("response.created", {
      response: responseObject(shell, { status: "in_progress", model, output: [] }),
    });
    await send("response.in_progress", {
      response: responseObject(shell, { status: "in_progress", model, output: [] }),
    });
    const done = await relayChatEvents(opened.events, stream, {
      text: addText,
      toolStart: async (step) => {
        await closeMessage();
        const call: OpenCall = {
          itemId: options.newItemId("fc"),
          outputIndex: output.length,
          callId: step.id,
          name: step.name,
          arguments: "",
        };
        calls.set(step.index, call);
        const item = functionCallItem(call.itemId, toolCallOf(call), "in_progress");
        output.push(item);
        await send("response.output_item.added", { output_index: call.outputIndex, item });
      },
      toolArguments: async (step) => {
        const call = calls.get(step.index);
        if (!call) return;
        call.arguments += step.delta;
        await send("response.function_call_arguments.delta", {
          item_id: call.itemId,
          output_index: call.outputIndex,
          delta: step.delta,
        });
      },
    });
    if (!done) return;
    model = done.model;
    const more = options.continueWith ? await options.continueWith(done) : undefined;
    if (more) await addText(more.text);
    await closeMessage();
    for (const call of calls.values()) {
      const base = { item_id: call.itemId, output_index: call.outputIndex };
      await send("response.function_call_arguments.done", { ...base, arguments: call.arguments });
      const item = functionCallItem(call.itemId, toolCallOf(call), "completed");
      output[call.outputIndex] = item;
      await send("response.output_item.done", { output_index: call.outputIndex, item });
    }
    const extra = more?.usage ?? { promptTokens: 0, completionTokens: 0, costUsd: 0 };
    const incomplete = done.finishReason === "length";
    const response = responseObject(shell, {
      status: incomplete ? "incomplete" : "completed",
      model,
      output,
      usage: usageView(addTokens(done.usage, extra)),
      orchestrator: options.describeReply(done, extra.costUsd),
    });
    options.onCompleted?.(output);
    await send(incomplete ? "response.incomplete" : "response.completed", { response });
  } catch (raw) {
    const error = toOrchestratorError(raw);
    reply.log.warn({ code: error.code }, "stream ended with an error");
    const { message: text, code, param } = toOpenAiErrorBody(error).error;
    await send("error", { code, message: text, param });
  } finally {
    stream.end();
  }
}
