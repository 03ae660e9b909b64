import type { ChatEvent, ChatReply } from "../chat/chat-service.ts";
import type { EventStream } from "./event-stream.ts";
import { ToolCallDeltas, type ToolCallStep } from "./tool-call-deltas.ts";

// How one API writes the pieces of an answer: its text, and each tool call announced once, then its
// arguments as they arrive.
export interface ChatEventWriter {
  readonly text: (text: string) => Promise<void>;
  readonly toolStart: (step: Extract<ToolCallStep, { kind: "start" }>) => Promise<void>;
  readonly toolArguments: (step: Extract<ToolCallStep, { kind: "arguments" }>) => Promise<void>;
}

// Feeds an opened chat stream's events to the Responses or Messages writer. Returns the pipeline's reply,
// or undefined when the client went away; a pipeline that ends without a reply is an error.
export async function relayChatEvents(
  events: AsyncIterable<ChatEvent>,
  stream: EventStream,
  writer: ChatEventWriter,
): Promise<ChatReply | undefined> {
  const toolSteps = new ToolCallDeltas();
  let done: ChatReply | undefined;
  for await (const event of events) {
    if (stream.closed) return undefined;
    if (event.type === "delta") {
      if (event.text !== "") await writer.text(event.text);
    } else if (event.type === "tool_call_delta") {
      for (const step of toolSteps.steps(event.deltas)) {
        if (step.kind === "start") await writer.toolStart(step);
        else await writer.toolArguments(step);
      }
    } else if (event.type === "done") done = event.reply;
  }
  if (!done) throw new Error("the chat pipeline ended without a reply");
  return done;
}
