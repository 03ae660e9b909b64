import type { FastifyReply } from "fastify";
import type { ChatEvent, ChatReply, RouteInfo } from "../chat/chat-service.ts";
import type { RoutingInfo } from "../chat/routing-info.ts";
import { toOrchestratorError } from "../core/errors.ts";
import { addTokens, type Usage } from "../core/usage.ts";
import { routeHeader } from "../routing/route-trace.ts";
import { EventStream } from "./event-stream.ts";
import { openChatStream } from "./open-chat-stream.ts";
import { toOpenAiErrorBody } from "./openai/openai-errors.ts";
import { openAiPromptDetails } from "./usage-details.ts";

export interface CompletionStreamOptions {
  readonly id: string;
  readonly created: number;
  // Extension fields on the first chunk (who answers and why) and on the usage chunk.
  readonly describeRoute: (route: RouteInfo) => Record<string, unknown>;
  readonly describeReply: (reply: ChatReply, extraCostUsd: number) => Record<string, unknown>;
  readonly includeUsage: boolean;
  // Text to append after the model's own, such as the finished answer of a background workflow.
  readonly continueWith?: (reply: ChatReply) => Promise<{ text: string; usage: Usage } | undefined>;
}

export function routeHeaders(route: {
  category: string | null;
  role: string;
  model: string;
  // Known once the answer is complete: the provider of the deployment that gave it.
  provider?: string;
  routing: RoutingInfo;
}): Record<string, string> {
  const { routing } = route;
  return {
    "x-orchestrator-category": route.category ?? "none",
    "x-orchestrator-role": route.role,
    "x-orchestrator-model": route.model,
    ...(route.provider ? { "x-orchestrator-provider": route.provider } : {}),
    // Why: the trace in one line (see routing/route-trace.ts).
    "x-orchestrator-route": routeHeader({
      rule: routing.rule,
      category: route.category,
      role: route.role,
      ...(routing.categorizer ? { labelSource: routing.categorizer.source } : {}),
      ...(routing.categorizer?.ms === undefined ? {} : { categorizerMs: routing.categorizer.ms }),
      ...(routing.speculation ? { speculation: routing.speculation } : {}),
      ...(routing.steppedUp ? { steppedUp: true } : {}),
      ...(routing.skipped ? { skipped: routing.skipped } : {}),
      ...(route.provider ? { provider: route.provider } : {}),
    }),
  };
}

// Streams a chat run as OpenAI chat.completion.chunk events. Nothing is sent until the answer's first
// event arrives (see openChatStream), so the SDKs get typed errors with a status for every failure before
// it. Only a failure after that arrives as an error event, the way OpenAI's own streams report one.
export async function streamCompletion(
  reply: FastifyReply,
  events: AsyncGenerator<ChatEvent, void, undefined>,
  options: CompletionStreamOptions,
): Promise<void> {
  const opened = await openChatStream(events);
  const route = opened.route;
  const stream = new EventStream(reply, routeHeaders(route));
  let model = route.model;
  // With include_usage every chunk carries the field, null until the usage chunk, as OpenAI's do.
  const usageField = options.includeUsage ? { usage: null } : {};
  const chunk = (
    delta: Record<string, unknown>,
    finishReason: string | null,
    extra: Record<string, unknown> = {},
  ) => ({
    id: options.id,
    object: "chat.completion.chunk",
    created: options.created,
    model,
    system_fingerprint: null,
    choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
    ...usageField,
    ...extra,
  });
  try {
    await stream.send(
      chunk({ role: "assistant", content: "" }, null, { orchestrator: options.describeRoute(route) }),
    );
    let done: ChatReply | undefined;
    for await (const event of opened.events) {
      if (stream.closed) return;
      if (event.type === "delta") await stream.send(chunk({ content: event.text }, null));
      else if (event.type === "tool_call_delta") await stream.send(chunk({ tool_calls: event.deltas }, null));
      else if (event.type === "done") done = event.reply;
    }
    if (!done) throw new Error("the chat pipeline ended without a reply");
    model = done.model;
    const more = options.continueWith ? await options.continueWith(done) : undefined;
    if (more) await stream.send(chunk({ content: more.text }, null));
    await stream.send(chunk({}, done.finishReason));
    const extra = more?.usage ?? { promptTokens: 0, completionTokens: 0, costUsd: 0 };
    if (options.includeUsage) {
      const tokens = addTokens(done.usage, extra);
      const { promptTokens, completionTokens } = tokens;
      await stream.send({
        ...chunk({}, null),
        choices: [],
        usage: {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
          ...openAiPromptDetails(tokens),
          ...(done.usage.reasoningTokens
            ? { completion_tokens_details: { reasoning_tokens: done.usage.reasoningTokens } }
            : {}),
        },
        orchestrator: options.describeReply(done, extra.costUsd),
      });
    }
    await stream.send("[DONE]");
  } catch (raw) {
    const error = toOrchestratorError(raw);
    reply.log.warn({ code: error.code }, "stream ended with an error");
    await stream.send(toOpenAiErrorBody(error));
  } finally {
    stream.end();
  }
}
