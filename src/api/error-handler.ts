import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { errorKinds, OrchestratorError } from "../core/errors.ts";
import { scrubSecrets } from "../core/secrets.ts";
import { toAnthropicErrorBody } from "./anthropic/messages-view.ts";
import { toOpenAiErrorBody } from "./openai/openai-errors.ts";

// The service's own error body (OrchestratorError.toBody): open, since an error may add facts of its own
// (an estimate and its cap, say).
export const serviceErrorBodySchema = z.object({
  error: z.looseObject({
    type: z.enum(errorKinds).describe("What to do about it: transient errors may be retried"),
    code: z.string(),
    message: z.string(),
    retryable: z.boolean(),
    model: z.string().optional(),
    field: z.string().optional().describe("The request field at fault"),
  }),
});

// Maps every failure to the one error body. Fastify's own errors (bad JSON, oversized body,
// wrong content type) get the same shape as ours; anything unexpected is a 500 without internals.
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const mapped = OrchestratorError.isInstance(error) ? error : fromFastifyError(error);
    if (mapped.status >= 500) request.log.error({ err: error, code: mapped.code }, "request failed");
    else request.log.info({ code: mapped.code, status: mapped.status }, "request refused");
    if (mapped.retryAfterMs !== undefined) reply.header("retry-after", Math.ceil(mapped.retryAfterMs / 1000));
    // Tells the official OpenAI SDKs whether their own retry would help.
    reply.header("x-should-retry", String(mapped.retryable));
    return reply.status(mapped.status).send(errorBody(request.url, mapped));
  });

  app.setNotFoundHandler((request, reply) => {
    const error = new OrchestratorError({
      kind: "logical",
      code: "not_found",
      status: 404,
      message: `no endpoint ${request.method} ${request.url.split("?")[0]}`,
    });
    return reply.status(404).send(errorBody(request.url, error));
  });
}

export const maxPathParamLength = 256;

// Errors the router raises before any route or hook runs (a path parameter past maxPathParamLength, a
// malformed URL): the same error body as everything else, instead of Fastify's own.
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const mapped =
    error.code === "FST_ERR_MAX_PARAM_LENGTH"
      ? refusal("uri_too_long", 414, `a path parameter is longer than ${maxPathParamLength} characters`)
      : error.code === "FST_ERR_BAD_URL"
        ? refusal(
            "invalid_request",
            400,
            "the URL is malformed: a path segment is not valid percent-encoding",
          )
        : fromFastifyError(error);
  void reply.status(mapped.status).send(errorBody(request.url, mapped));
}

// The Anthropic-compatible endpoint answers in Anthropic's error shape, the OpenAI-compatible ones in
// OpenAI's, everything else in the service's own.
function errorBody(url: string, raw: OrchestratorError) {
  const error = withoutSecrets(raw);
  if (/^\/v1\/messages(?:[/?]|$)/.test(url)) return toAnthropicErrorBody(error);
  return url.startsWith("/v1/") ? toOpenAiErrorBody(error) : error.toBody();
}

// A message that carries a credential anyway (one an upstream echoed) is answered without it.
function withoutSecrets(error: OrchestratorError): OrchestratorError {
  const message = scrubSecrets(error.message);
  if (message === error.message) return error;
  return new OrchestratorError({
    kind: error.kind,
    code: error.code,
    status: error.status,
    retryable: error.retryable,
    message,
    ...(error.model === undefined ? {} : { model: error.model }),
    ...(error.field === undefined ? {} : { field: error.field }),
    ...(error.details === undefined ? {} : { details: error.details }),
  });
}

function fromFastifyError(error: FastifyError): OrchestratorError {
  switch (error.code) {
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return refusal("invalid_json", 400, `the request body is not valid JSON: ${error.message}`);
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return refusal(
        "body_too_large",
        413,
        "the request body is larger than the server accepts (system.maxBodyBytes)",
      );
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return refusal("unsupported_media_type", 415, "send the request body as application/json");
    default:
      break;
  }
  if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/i.test(error.message))) {
    return refusal("invalid_json", 400, `the request body is not valid JSON: ${error.message}`);
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return refusal("invalid_request", error.statusCode, error.message);
  }
  return new OrchestratorError({
    kind: "fatal",
    code: "internal_error",
    status: 500,
    message: "the server failed to handle this request; see the server log for the request id",
    cause: error,
  });
}

function refusal(code: string, status: number, message: string): OrchestratorError {
  return new OrchestratorError({ kind: "logical", code, status, message });
}
