import type { ChatEvent, RouteInfo } from "../chat/chat-service.ts";
import { OrchestratorError } from "../core/errors.ts";

export interface OpenedChatStream {
  // Who answers: `model` is the model that produced the first event (a fallback's id after a fallback).
  readonly route: RouteInfo;
  // Every event after "routed", the first one included.
  readonly events: AsyncGenerator<ChatEvent, void, undefined>;
}

// Runs a chat pipeline up to its answer's first event before any byte is sent, so every failure before
// it (bad model, context too large, an upstream that refuses or stays down through every retry and
// fallback) is thrown here and answered with its real HTTP status by the error handler. Every streaming
// endpoint (chat completions, responses, messages) opens its stream this way.
export async function openChatStream(
  events: AsyncGenerator<ChatEvent, void, undefined>,
): Promise<OpenedChatStream> {
  const first = await events.next();
  if (first.done || first.value.type !== "routed") {
    throw new OrchestratorError({
      kind: "fatal",
      code: "internal_error",
      message: "the chat pipeline did not route",
    });
  }
  const opening = await events.next();
  if (opening.done) throw new Error("the chat pipeline ended without a reply");
  const head = opening.value;
  const model =
    head.type === "done" ? head.reply.model : head.type === "routed" ? head.route.model : head.model;
  async function* all(): AsyncGenerator<ChatEvent, void, undefined> {
    yield head;
    yield* events;
  }
  return { route: { ...first.value.route, model }, events: all() };
}
