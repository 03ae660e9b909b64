import { z } from "zod";
import { workflowRequestSchema } from "../../workflows/workflow-schema.ts";
import { countTokensBodySchema, messagesBodySchema } from "../anthropic/messages-request.ts";
import { anthropicErrorBodySchema, messageObjectSchema } from "../anthropic/messages-view.ts";
import { serviceErrorBodySchema } from "../error-handler.ts";
import { openAiErrorBodySchema } from "../openai/openai-errors.ts";
import { chatCompletionBodySchema } from "../openai/openai-schemas.ts";
import { requestRecordSchema } from "../request-record-view.ts";
import { responsesBodySchema } from "../responses/responses-request.ts";
import { responseObjectSchema } from "../responses/responses-view.ts";
import { artifactParamsSchema } from "../routes/artifact-routes.ts";
import { addonsQuerySchema, addonsSchema, modelsSchema } from "../routes/catalog-routes.ts";
import { embeddingsBodySchema, embeddingsSchema } from "../routes/embeddings-routes.ts";
import { healthSchema } from "../routes/health-routes.ts";
import { imagesBodySchema, imagesSchema } from "../routes/images-routes.ts";
import { tokenCountSchema } from "../routes/messages-routes.ts";
import { metricsQuerySchema } from "../routes/metrics-routes.ts";
import { modelEntrySchema, modelListSchema } from "../routes/model-list-routes.ts";
import { chatCompletionSchema } from "../routes/openai-routes.ts";
import {
  sessionCreatedSchema,
  sessionHistoryQuerySchema,
  sessionHistorySchema,
} from "../routes/session-routes.ts";
import { statsQuerySchema, statsSchema } from "../routes/stats-routes.ts";
import {
  runOptionsSchema,
  templatesSchema,
  workflowAcceptedSchema,
  workflowRecordSchema,
} from "../routes/workflow-routes.ts";
import {
  chatBodySchema,
  requestParamsSchema,
  sessionParamsSchema,
  workflowParamsSchema,
} from "../schemas.ts";
import { chatResponseSchema } from "../views.ts";

// Every public route, with the same zod schemas that validate its inputs and type its answers: the OpenAPI
// document is made from this table, and a test holds it to the routes Fastify has registered.

// Which error body a route answers with (see errorBody in error-handler.ts).
export type ErrorFamily = "service" | "openai" | "anthropic";

export interface Reply {
  readonly description: string;
  // A named schema (a key of `schemas` below) for a JSON body, or another media type's body.
  readonly schema?: SchemaName;
  readonly media?: { readonly type: string; readonly description: string; readonly binary?: true };
  // Also answers as server-sent events (`"stream": true` in the body, or always).
  readonly stream?: string;
}

export interface Operation {
  readonly method: "get" | "post" | "delete";
  readonly path: string;
  readonly tag: string;
  readonly summary: string;
  readonly family: ErrorFamily;
  // Served without an API key even when client keys are configured.
  readonly open?: true;
  readonly pathParams?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: SchemaName;
  readonly bodyOptional?: true;
  readonly replies: Readonly<Record<number, Reply>>;
}

// Named schemas, in components.schemas. Request bodies are described as they are accepted (io: input),
// answers as they are sent (io: output).
export const requestSchemas = {
  ChatRequest: chatBodySchema,
  WorkflowRequest: workflowRequestSchema,
  TemplateVariables: z
    .record(z.string(), z.unknown())
    .describe("The template's variables by name (GET /templates lists them)"),
  ChatCompletionRequest: chatCompletionBodySchema,
  ResponsesRequest: responsesBodySchema,
  MessagesRequest: messagesBodySchema,
  CountTokensRequest: countTokensBodySchema,
  EmbeddingsRequest: embeddingsBodySchema,
  ImagesRequest: imagesBodySchema,
} as const;

export const responseSchemas = {
  ChatResponse: chatResponseSchema,
  SessionCreated: sessionCreatedSchema,
  SessionHistory: sessionHistorySchema,
  WorkflowRecord: workflowRecordSchema,
  WorkflowAccepted: workflowAcceptedSchema,
  Templates: templatesSchema,
  ChatCompletion: chatCompletionSchema,
  Response: responseObjectSchema,
  Message: messageObjectSchema,
  TokenCount: tokenCountSchema,
  Embeddings: embeddingsSchema,
  Images: imagesSchema,
  ModelList: modelListSchema,
  Model: modelEntrySchema,
  Models: modelsSchema,
  Addons: addonsSchema,
  Health: healthSchema,
  Stats: statsSchema,
  RequestRecord: requestRecordSchema,
  Error: serviceErrorBodySchema,
  OpenAiError: openAiErrorBodySchema,
  AnthropicError: anthropicErrorBodySchema,
} as const;

export type SchemaName = keyof typeof requestSchemas | keyof typeof responseSchemas;

const sse = (what: string) => `Server-sent events when the body has "stream": true: ${what}`;

export const operations: readonly Operation[] = [
  {
    method: "post",
    path: "/chat",
    tag: "chat",
    summary: "Answer a message, routed by complexity",
    family: "service",
    body: "ChatRequest",
    replies: {
      200: {
        description: "The answer, the model that gave it, why, and what it cost",
        schema: "ChatResponse",
        stream: sse("chat.completion.chunk objects; the first and last carry the /chat fields"),
      },
    },
  },
  {
    method: "post",
    path: "/sessions",
    tag: "sessions",
    summary: "Open a session",
    family: "service",
    replies: { 201: { description: "The new session", schema: "SessionCreated" } },
  },
  {
    method: "get",
    path: "/sessions/{id}",
    tag: "sessions",
    summary: "A session's messages",
    family: "service",
    pathParams: sessionParamsSchema,
    query: sessionHistoryQuerySchema,
    replies: { 200: { description: "The session and its messages", schema: "SessionHistory" } },
  },
  {
    method: "delete",
    path: "/sessions/{id}",
    tag: "sessions",
    summary: "Delete a session, its messages and its summary",
    family: "service",
    pathParams: sessionParamsSchema,
    replies: {
      204: { description: "Deleted" },
      409: { description: "A workflow of the session is still running (code session_busy)", schema: "Error" },
    },
  },
  {
    method: "post",
    path: "/workflow",
    tag: "workflows",
    summary: "Run a workflow of stages and tasks",
    family: "service",
    body: "WorkflowRequest",
    replies: {
      200: { description: "The finished run", schema: "WorkflowRecord" },
      202: { description: 'Started ("async": true); follow workflow_url', schema: "WorkflowAccepted" },
    },
  },
  {
    method: "get",
    path: "/workflow/{id}",
    tag: "workflows",
    summary: "A run, its tasks and outputs",
    family: "service",
    pathParams: workflowParamsSchema,
    replies: { 200: { description: "The run", schema: "WorkflowRecord" } },
  },
  {
    method: "delete",
    path: "/workflow/{id}",
    tag: "workflows",
    summary: "Cancel a running run",
    family: "service",
    pathParams: workflowParamsSchema,
    replies: {
      200: { description: "The cancelled run", schema: "WorkflowRecord" },
      409: { description: "The run is not running (code not_running)", schema: "Error" },
    },
  },
  {
    method: "post",
    path: "/workflow/{id}/resume",
    tag: "workflows",
    summary: "Resume an interrupted or failed run",
    family: "service",
    pathParams: workflowParamsSchema,
    replies: { 202: { description: "Resumed; follow workflow_url", schema: "WorkflowAccepted" } },
  },
  {
    method: "get",
    path: "/workflow/{id}/events",
    tag: "workflows",
    summary: "A run's events: what already happened, then live until it ends",
    family: "service",
    pathParams: workflowParamsSchema,
    replies: {
      200: {
        description: "The run's events",
        media: {
          type: "text/event-stream",
          description:
            "Server-sent events: plan_ready, task_started, task_completed, task_failed, workflow_finished",
        },
      },
    },
  },
  {
    method: "get",
    path: "/templates",
    tag: "workflows",
    summary: "The workflow templates",
    family: "service",
    replies: { 200: { description: "Templates, their variables and stages", schema: "Templates" } },
  },
  {
    method: "post",
    path: "/template/{name}",
    tag: "workflows",
    summary: "Run a template with its variables",
    family: "service",
    pathParams: z.object({ name: z.string().describe("A template name from GET /templates") }),
    query: runOptionsSchema,
    body: "TemplateVariables",
    bodyOptional: true,
    replies: {
      200: { description: "The finished run", schema: "WorkflowRecord" },
      202: { description: "Started (?async=true); follow workflow_url", schema: "WorkflowAccepted" },
    },
  },
  {
    method: "get",
    path: "/artifacts/{id}",
    tag: "workflows",
    summary: "A generated image or video",
    family: "service",
    pathParams: artifactParamsSchema,
    replies: {
      200: {
        description: "The artifact, with its own content type",
        media: { type: "*/*", description: "The image or video as made", binary: true },
      },
    },
  },
  {
    method: "post",
    path: "/v1/chat/completions",
    tag: "openai",
    summary: "OpenAI chat completions; model auto routes by complexity",
    family: "openai",
    body: "ChatCompletionRequest",
    replies: {
      200: {
        description: "The completion",
        schema: "ChatCompletion",
        stream: sse("chat.completion.chunk objects, then [DONE]"),
      },
    },
  },
  {
    method: "post",
    path: "/v1/responses",
    tag: "openai",
    summary: "OpenAI Responses API",
    family: "openai",
    body: "ResponsesRequest",
    replies: {
      200: {
        description: "The response",
        schema: "Response",
        stream: sse("response.* events, ending with response.completed"),
      },
    },
  },
  {
    method: "post",
    path: "/v1/messages",
    tag: "anthropic",
    summary: "Anthropic Messages API",
    family: "anthropic",
    body: "MessagesRequest",
    replies: {
      200: {
        description: "The message",
        schema: "Message",
        stream: sse("message_start, content_block_*, message_delta, message_stop"),
      },
    },
  },
  {
    method: "post",
    path: "/v1/messages/count_tokens",
    tag: "anthropic",
    summary: "Count a Messages request's input tokens",
    family: "anthropic",
    body: "CountTokensRequest",
    replies: { 200: { description: "The input tokens", schema: "TokenCount" } },
  },
  {
    method: "post",
    path: "/v1/embeddings",
    tag: "openai",
    summary: "OpenAI embeddings, through an embedding role",
    family: "openai",
    body: "EmbeddingsRequest",
    replies: { 200: { description: "The vectors", schema: "Embeddings" } },
  },
  {
    method: "post",
    path: "/v1/images/generations",
    tag: "openai",
    summary: "OpenAI image generation, through an image role",
    family: "openai",
    body: "ImagesRequest",
    replies: { 200: { description: "The images, inline or as /artifacts URLs", schema: "Images" } },
  },
  {
    method: "get",
    path: "/v1/models",
    tag: "openai",
    summary: "What a client may name as model",
    family: "openai",
    replies: { 200: { description: "The models", schema: "ModelList" } },
  },
  {
    method: "get",
    path: "/v1/models/{id}",
    tag: "openai",
    summary: "One model",
    family: "openai",
    pathParams: z.object({
      id: z.string().min(1).max(256).describe("A model id; it may contain slashes (openai/gpt-4o)"),
    }),
    replies: { 200: { description: "The model", schema: "Model" } },
  },
  {
    method: "get",
    path: "/models",
    tag: "service",
    summary: "The configured roles, their models, prices and fallbacks",
    family: "service",
    replies: { 200: { description: "Roles, aliases and the price catalog's state", schema: "Models" } },
  },
  {
    method: "get",
    path: "/addons",
    tag: "service",
    summary: "The prompt addons a task can enable",
    family: "service",
    query: addonsQuerySchema,
    replies: { 200: { description: "The addons", schema: "Addons" } },
  },
  {
    method: "get",
    path: "/health",
    tag: "service",
    summary: "Liveness, mode and circuits not closed",
    family: "service",
    open: true,
    replies: { 200: { description: "Up; status degraded when some models are avoided", schema: "Health" } },
  },
  {
    method: "get",
    path: "/stats",
    tag: "service",
    summary: "Usage, cost, savings and quality over a window, and this process's live state",
    family: "service",
    query: statsQuerySchema,
    replies: { 200: { description: "The report", schema: "Stats" } },
  },
  {
    method: "get",
    path: "/metrics",
    tag: "service",
    summary: "Prometheus metrics (when monitoring.metricsEnabled)",
    family: "service",
    query: metricsQuerySchema,
    replies: {
      200: {
        description: "Prometheus text exposition format",
        media: { type: "text/plain", description: "Prometheus text format, version 0.0.4" },
      },
    },
  },
  {
    method: "get",
    path: "/requests/{id}",
    tag: "service",
    summary: "One request explained: route, upstream calls, costs (owner only when client keys are on)",
    family: "service",
    pathParams: requestParamsSchema,
    replies: { 200: { description: "What the service knows of the request", schema: "RequestRecord" } },
  },
  {
    method: "get",
    path: "/openapi.json",
    tag: "service",
    summary: "This document",
    family: "service",
    open: true,
    replies: {
      200: {
        description: "The OpenAPI 3.1 document",
        media: { type: "application/json", description: "OpenAPI 3.1" },
      },
    },
  },
  {
    method: "get",
    path: "/docs",
    tag: "service",
    summary: "The API reference page, rendered from this document",
    family: "service",
    open: true,
    replies: { 200: { description: "The page", media: { type: "text/html", description: "HTML" } } },
  },
];
