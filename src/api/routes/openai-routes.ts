import type { FastifyInstance } from "fastify";
import type { ChatService } from "../../chat/chat-service.ts";
import type { Clock } from "../../core/clock.ts";
import type { IdGenerator } from "../../core/ids.ts";
import type { ModelClient } from "../../models/model-client.ts";
import type { Store } from "../../store/store.ts";
import type { WorkflowService } from "../../workflows/workflow-service.ts";
import { abortOnDisconnect } from "../abort-on-disconnect.ts";
import { chatInputOf, continueWithWorkflow, replyWithWorkflow } from "../chat-target.ts";
import { routeHeaders, streamCompletion } from "../completion-stream.ts";
import { chatCompletionBodySchema, convertRequest } from "../openai/openai-schemas.ts";
import { parseInput, schemaForFieldsPresent } from "../validation.ts";
import { orchestratorView, routingView } from "../views.ts";

export interface OpenAiRouteDeps {
  readonly chat: ChatService;
  readonly models: ModelClient;
  readonly store: Store;
  readonly workflows: WorkflowService;
  readonly clock: Clock;
  readonly newId: IdGenerator;
}

const completionBodySchemaFor = schemaForFieldsPresent(chatCompletionBodySchema);

// The OpenAI-compatible face of the service: existing SDKs and tools point their base URL here and get
// routing, fallbacks and cost control. `model` is "auto" (the full pipeline), a role, or an upstream model id.
export function registerOpenAiRoutes(app: FastifyInstance, deps: OpenAiRouteDeps): void {
  app.post("/v1/chat/completions", async (request, reply) => {
    const body = parseInput(completionBodySchemaFor(request.body), request.body);
    if (body.cache && request.orchestration) request.orchestration.preferCache = true;
    const converted = convertRequest(body);
    const input = chatInputOf(deps.models, body.model, converted, "messages");
    const signal = abortOnDisconnect(reply);
    const id = `chatcmpl-${deps.newId()}`;
    const created = Math.floor(deps.clock.now() / 1000);

    if (body.stream) {
      await streamCompletion(reply, deps.chat.chatStream(input, signal), {
        id,
        created,
        includeUsage: body.stream_options?.include_usage === true,
        describeRoute: (route) => ({
          category: route.category,
          role: route.role,
          routing: routingView(route.routing),
        }),
        describeReply: (done, extraCostUsd) => orchestratorView(done, extraCostUsd),
        continueWith: continueWithWorkflow(deps),
      });
      return reply;
    }

    const done = await deps.chat.chat(input, signal);
    const { finished, promptTokens, completionTokens } = await replyWithWorkflow(deps, done);
    reply.headers(routeHeaders(done));
    return {
      id,
      object: "chat.completion",
      created,
      model: done.model,
      system_fingerprint: null,
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            // A reply that only calls tools has null content, as OpenAI's does.
            content: finished
              ? `${done.response}\n\n${finished.text}`
              : done.toolCalls && done.response === ""
                ? null
                : done.response,
            refusal: null,
            ...(done.toolCalls ? { tool_calls: done.toolCalls } : {}),
          },
          finish_reason: done.finishReason,
          logprobs: done.logprobs ?? null,
        },
      ],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
        ...reasoningDetails(done.usage.reasoningTokens),
      },
      orchestrator: orchestratorView(done, finished?.usage.costUsd ?? 0),
    };
  });
}

// OpenAI's place for reasoning tokens, present when a thinking model reasoned.
function reasoningDetails(reasoningTokens: number | undefined) {
  return reasoningTokens ? { completion_tokens_details: { reasoning_tokens: reasoningTokens } } : {};
}
