import type { FastifyInstance } from "fastify";
import type { ChatMessage } from "../../providers/chat-provider.ts";
import { abortOnDisconnect } from "../abort-on-disconnect.ts";
import { chatInputOf, continueWithWorkflow, replyWithWorkflow } from "../chat-target.ts";
import { routeHeaders } from "../completion-stream.ts";
import {
  assertInputItemCount,
  convertResponsesRequest,
  responsesBodySchema,
} from "../responses/responses-request.ts";
import { streamResponse } from "../responses/responses-stream.ts";
import {
  functionCallItem,
  messageItem,
  type OutputItem,
  type ResponseShell,
  responseObject,
  usageView,
} from "../responses/responses-view.ts";
import type { Tenancy } from "../tenancy.ts";
import { parseInput } from "../validation.ts";
import { orchestratorView } from "../views.ts";
import type { OpenAiRouteDeps } from "./openai-routes.ts";

// POST /v1/responses: OpenAI's Responses API (the Vercel AI SDK's default OpenAI model, LangChain's
// useResponsesApi) translated onto the same chat pipeline as /v1/chat/completions: `model` is auto, a role
// or a model id; input items become the conversation; function tools, text.format and the rest become the
// generation options. Stored responses can be continued with previous_response_id.
// `maxExpandedChars`: the most text a request's input may expand to (see convertResponsesRequest).
export function registerResponsesRoutes(
  app: FastifyInstance,
  deps: OpenAiRouteDeps & { readonly tenancy: Tenancy },
  maxExpandedChars: number,
): void {
  const compactId = () => deps.newId().replaceAll("-", "");

  app.post("/v1/responses", async (request, reply) => {
    assertInputItemCount(request.body);
    const body = parseInput(responsesBodySchema, request.body);
    if (body.cache && request.orchestration) request.orchestration.preferCache = true;
    const stored = deps.tenancy.of(request).responses;
    const converted = convertResponsesRequest(body, stored, maxExpandedChars);
    const input = chatInputOf(deps.models, body.model, converted, "input");
    const signal = abortOnDisconnect(reply);
    const shell: ResponseShell = {
      id: `resp_${compactId()}`,
      createdAt: Math.floor(deps.clock.now() / 1000),
      body,
    };
    const remember = (output: readonly OutputItem[]) => {
      if (body.store === false) return;
      stored.remember(shell.id, [...converted.conversation, ...conversationOf(output)], itemsOf(output));
    };

    if (body.stream) {
      await streamResponse(reply, deps.chat.chatStream(input, signal), {
        shell,
        newItemId: (prefix) => `${prefix}_${compactId()}`,
        describeReply: orchestratorView,
        continueWith: continueWithWorkflow(deps),
        onCompleted: remember,
      });
      return reply;
    }

    const done = await deps.chat.chat(input, signal);
    const { finished, tokens } = await replyWithWorkflow(deps, done);
    const text = finished ? `${done.response}\n\n${finished.text}` : done.response;
    const output: OutputItem[] = [
      ...(text === "" && done.toolCalls ? [] : [messageItem(`msg_${compactId()}`, text, "completed")]),
      ...(done.toolCalls ?? []).map((call) => functionCallItem(`fc_${compactId()}`, call, "completed")),
    ];
    remember(output);
    reply.headers(routeHeaders(done));
    return responseObject(shell, {
      status: done.finishReason === "length" ? "incomplete" : "completed",
      model: done.model,
      output,
      usage: usageView(tokens),
      orchestrator: orchestratorView(done, finished?.usage.costUsd ?? 0),
    });
  });
}

// The response's output as the assistant turn of a conversation: text, and the tool calls it made.
function conversationOf(output: readonly OutputItem[]): ChatMessage[] {
  const text = output
    .flatMap((item) => (item.type === "message" ? item.content.map((p) => p.text) : []))
    .join("");
  const toolCalls = output.flatMap((item) =>
    item.type === "function_call"
      ? [
          {
            id: item.call_id,
            type: "function" as const,
            function: { name: item.name, arguments: item.arguments },
          },
        ]
      : [],
  );
  return [{ role: "assistant", content: text, ...(toolCalls.length > 0 ? { toolCalls } : {}) }];
}

function itemsOf(output: readonly OutputItem[]): Map<string, ChatMessage> {
  return new Map(output.map((item) => [item.id, conversationOf([item])[0] as ChatMessage]));
}
