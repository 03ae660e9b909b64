import { z } from "zod";
import {
  type ErrorFamily,
  type Operation,
  operations,
  type Reply,
  requestSchemas,
  responseSchemas,
  type SchemaName,
} from "./route-table.ts";

export interface DocumentOptions {
  readonly version: string;
  // With client keys configured every route but the open ones needs one; without, none does.
  readonly clientKeys: boolean;
  // system.publicUrl, when set: where the API is reached from outside.
  readonly serverUrl?: string | undefined;
}

type JsonObject = Record<string, unknown>;

// The OpenAPI 3.1 document, made from the route table's zod schemas (JSON Schema draft 2020-12, OpenAPI
// 3.1's own dialect). Built once per server: the schemas do not change while it runs.
export function buildOpenApiDocument(options: DocumentOptions): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const operation of operations) {
    paths[operation.path] ??= {};
    (paths[operation.path] as Record<string, JsonObject>)[operation.method] = operationObject(operation);
  }
  return {
    openapi: "3.1.1",
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    info: {
      title: "Master AI Orchestrator",
      version: options.version,
      description:
        "Routes LLM traffic by complexity, runs multi-step workflows and keeps cost and failures under control. " +
        "Every response carries x-request-id. The /v1 routes answer errors in OpenAI's shape, /v1/messages " +
        "in Anthropic's, the rest in the service's own.",
    },
    servers: [{ url: options.serverUrl ?? "/" }],
    tags: ["chat", "sessions", "workflows", "openai", "anthropic", "service"].map((name) => ({ name })),
    // An empty requirement makes the key optional: it is only checked when client keys are configured.
    security: [...securityNames.map((name) => ({ [name]: [] })), ...(options.clientKeys ? [] : [{}])],
    paths,
    components: {
      schemas: {
        ...mapValues(requestSchemas, (schema) => toJsonSchema(schema, "input")),
        ...mapValues(responseSchemas, (schema) => toJsonSchema(schema, "output")),
      },
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description: "A client key (api_keys.clients): Authorization: Bearer <key>",
        },
        xApiKey: {
          type: "apiKey",
          in: "header",
          name: "x-api-key",
          description: "As the Anthropic SDK sends it",
        },
        azureApiKey: {
          type: "apiKey",
          in: "header",
          name: "api-key",
          description: "As Azure OpenAI clients send it",
        },
      },
    },
  };
}

const securityNames = ["bearer", "xApiKey", "azureApiKey"] as const;

function operationObject(operation: Operation): JsonObject {
  const parameters = [
    ...parametersOf(operation.pathParams, "path"),
    ...parametersOf(operation.query, "query"),
  ];
  const errors = errorReplies(operation);
  return {
    operationId: operationId(operation),
    tags: [operation.tag],
    summary: operation.summary,
    ...(operation.open ? { security: [] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(operation.body
      ? {
          requestBody: {
            required: !operation.bodyOptional,
            content: { "application/json": { schema: ref(operation.body) } },
          },
        }
      : {}),
    responses: {
      ...mapValues(operation.replies, replyObject),
      ...Object.fromEntries(
        errors
          .filter(([status]) => !(status in operation.replies))
          .map(([status, description]) => [
            status,
            {
              description,
              content: { "application/json": { schema: ref(errorSchemaOf(operation.family)) } },
            },
          ]),
      ),
    },
  };
}

// The failures every route can meet, and those its inputs add.
function errorReplies(operation: Operation): [string, string][] {
  const takesInput = operation.body !== undefined || operation.query !== undefined;
  return [
    ...(takesInput ? [["400", "The request is invalid: the error names the field"] as [string, string]] : []),
    ...(operation.open
      ? []
      : [["401", "A client key is required and was missing or wrong"] as [string, string]]),
    ...(operation.pathParams ? [["404", "Not found (or another client's)"] as [string, string]] : []),
    ["429", "Too many requests from this client; see retry-after"],
    ["default", "Any other failure: an upstream down or slow, a budget reached, an internal error"],
  ];
}

function replyObject(reply: Reply): JsonObject {
  const content: JsonObject = {};
  if (reply.schema) content["application/json"] = { schema: ref(reply.schema) };
  if (reply.stream) content["text/event-stream"] = { schema: { type: "string", description: reply.stream } };
  if (reply.media) {
    content[reply.media.type] = {
      schema: {
        type: "string",
        description: reply.media.description,
        ...(reply.media.binary ? { contentMediaType: "application/octet-stream" } : {}),
      },
    };
  }
  return { description: reply.description, content };
}

function parametersOf(schema: z.ZodObject | undefined, place: "path" | "query"): JsonObject[] {
  if (!schema) return [];
  const json = toJsonSchema(schema, "input") as { properties?: JsonObject; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: place,
    required: place === "path" || (json.required ?? []).includes(name),
    schema: property,
  }));
}

function errorSchemaOf(family: ErrorFamily): SchemaName {
  return family === "openai" ? "OpenAiError" : family === "anthropic" ? "AnthropicError" : "Error";
}

function ref(name: SchemaName): JsonObject {
  return { $ref: `#/components/schemas/${name}` };
}

// get /workflow/{id}/resume → getWorkflowIdResume
function operationId(operation: Operation): string {
  const words = operation.path.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return operation.method + words.map((word) => word[0]?.toUpperCase() + word.slice(1)).join("");
}

function toJsonSchema(schema: z.ZodType, io: "input" | "output"): JsonObject {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io,
    // A refinement (a UUID check, a documented field refused by name) has no JSON Schema form: the field
    // is described by its base type, and the service's 400 says what else is wrong.
    unrepresentable: "any",
    reused: "inline",
  }) as JsonObject;
  return json;
}

function mapValues<T, U>(
  record: Readonly<Record<string | number, T>>,
  map: (value: T) => U,
): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, map(value)]));
}
