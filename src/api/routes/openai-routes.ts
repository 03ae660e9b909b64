import type { FastifyInstance } from "fastify";
import { z } from "zod";
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
import { openAiPromptDetails } from "../usage-details.ts";
import { parseInput, schemaForFieldsPresent } from "../validation.ts";
import { orchestratorSchema, orchestratorView, routingView } from "../views.ts";

export interface OpenAiRouteDeps {
  readonly chat: ChatService;
  readonly models: ModelClient;
  readonly store: Store;
  readonly workflows: WorkflowService;
  readonly clock: Clock;
  readonly newId: IdGenerator;
}

export const chatCompletionSchema = z.object({
  id: z.string(),
  object: z.literal("chat.completion"),
  created: z.number().int(),
  model: z.string(),
  system_fingerprint: z.null(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({
        role: z.literal("assistant"),
        content: z.string().nullable(),
        refusal: z.null(),
        tool_calls: z
          .array(
            z.object({
              id: z.string(),
              type: z.literal("function"),
              function: z.object({ name: z.string(), arguments: z.string() }),
            }),
          )
          .readonly()
          .optional(),
      }),
      finish_reason: z.string(),
      logprobs: z.unknown(),
    }),
  ),
  usage: z.object({
    prompt_tokens: z.number().int(),
    completion_tokens: z.number().int(),
    total_tokens: z.number().int(),
    prompt_tokens_details: z.object({ cached_tokens: z.number().int() }),
    completion_tokens_details: z.object({ reasoning_tokens: z.number().int() }).optional(),
  }),
  orchestrator: orchestratorSchema,
});

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
    const { finished, promptTokens, completionTokens, tokens } = await replyWithWorkflow(deps, done);
    reply.headers(routeHeaders(done));
    const completion: z.output<typeof chatCompletionSchema> = {
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
        ...openAiPromptDetails(tokens),
        ...reasoningDetails(done.usage.reasoningTokens),
      },
      orchestrator: orchestratorView(done, finished?.usage.costUsd ?? 0),
    };
    return completion;
  });
}

// OpenAI's place for reasoning tokens, present when a thinking model reasoned.
function reasoningDetails(reasoningTokens: number | undefined) {
  return reasoningTokens ? { completion_tokens_details: { reasoning_tokens: reasoningTokens } } : {};
}
