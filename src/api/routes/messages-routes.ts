import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { textOf } from "../../providers/chat-provider.ts";
import type { TokenCounter } from "../../tokens/token-counter.ts";
import { abortOnDisconnect } from "../abort-on-disconnect.ts";
import {
  convertMessagesRequest,
  countTokensBodySchema,
  messagesBodySchema,
} from "../anthropic/messages-request.ts";
import { streamMessage } from "../anthropic/messages-stream.ts";
import { type messageObjectSchema, stopReason, toolUseBlock, usageView } from "../anthropic/messages-view.ts";
import { chatInputOf, continueWithWorkflow, replyWithWorkflow, resolveTarget } from "../chat-target.ts";
import { routeHeaders } from "../completion-stream.ts";
import { parseInput } from "../validation.ts";
import { orchestratorView } from "../views.ts";
import type { OpenAiRouteDeps } from "./openai-routes.ts";

export const tokenCountSchema = z.object({ input_tokens: z.number().int() });

export interface MessagesRouteDeps extends OpenAiRouteDeps {
  readonly tokens: TokenCounter;
}

// POST /v1/messages: Anthropic's Messages API (the Anthropic SDK, Claude Code, agent frameworks) translated
// onto the same chat pipeline: `model` is auto, a role or a model id; system, content blocks, tools and
// stop sequences become the conversation and generation options. Keys come as x-api-key, as that SDK sends
// them; anthropic-version is accepted and not needed.
export function registerMessagesRoutes(app: FastifyInstance, deps: MessagesRouteDeps): void {
  // What a request would cost in input tokens, counted with the service's tokenizer (o200k), which
  // approximates the answering model's own; Claude Code asks before long requests.
  app.post("/v1/messages/count_tokens", async (request): Promise<z.output<typeof tokenCountSchema>> => {
    const body = parseInput(countTokensBodySchema, request.body);
    resolveTarget(deps.models, body.model);
    const { conversation, generation } = convertMessagesRequest(body);
    const text = [
      ...conversation.map((message) =>
        [textOf(message.content), ...(message.toolCalls ?? []).map((call) => call.function.arguments)].join(
          "\n",
        ),
      ),
      ...(generation.tools ? [JSON.stringify(generation.tools)] : []),
    ].join("\n");
    return { input_tokens: await deps.tokens.count(text) };
  });

  app.post("/v1/messages", async (request, reply) => {
    const body = parseInput(messagesBodySchema, request.body);
    const converted = convertMessagesRequest(body);
    const input = chatInputOf(deps.models, body.model, converted, "messages");
    const signal = abortOnDisconnect(reply);
    const id = `msg_${deps.newId().replaceAll("-", "")}`;

    if (body.stream) {
      await streamMessage(reply, deps.chat.chatStream(input, signal), {
        id,
        describeReply: orchestratorView,
        continueWith: continueWithWorkflow(deps),
      });
      return reply;
    }

    const done = await deps.chat.chat(input, signal);
    const { finished, tokens } = await replyWithWorkflow(deps, done);
    const text = finished ? `${done.response}\n\n${finished.text}` : done.response;
    reply.headers(routeHeaders(done));
    const message: z.output<typeof messageObjectSchema> = {
      id,
      type: "message",
      role: "assistant",
      model: done.model,
      content: [
        ...(text === "" && done.toolCalls ? [] : [{ type: "text" as const, text }]),
        ...(done.toolCalls ?? []).map(toolUseBlock),
      ],
      stop_reason: stopReason(done.finishReason),
      stop_sequence: null,
      usage: usageView(tokens),
      orchestrator: orchestratorView(done, finished?.usage.costUsd ?? 0),
    };
    return message;
  });
}
