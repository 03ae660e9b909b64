import { z } from "zod";
import type { OrchestratorError } from "../../core/errors.ts";

export const openAiErrorBodySchema = z.object({
  error: z.object({
    message: z.string(),
    type: z
      .string()
      .describe(
        "authentication_error, permission_error, rate_limit_error, invalid_request_error or api_error",
      ),
    code: z.string(),
    param: z.string().nullable(),
    orchestrator_type: z.enum(["transient", "persistent", "resource", "logical", "fatal"]),
    retryable: z.boolean(),
  }),
});

// The OpenAI error shape, so the official SDKs raise their own error classes (and retry as they do).
export function toOpenAiErrorBody(error: OrchestratorError): z.output<typeof openAiErrorBodySchema> {
  return {
    error: {
      message: error.message,
      type: openAiType(error),
      code:
        error.status === 401 ? "invalid_api_key" : error.status === 429 ? "rate_limit_exceeded" : error.code,
      param: error.field ?? null,
      // Extensions: the service's own error kind and whether retrying can help.
      orchestrator_type: error.kind,
      retryable: error.retryable,
    },
  };
}

function openAiType(error: OrchestratorError): string {
  if (error.status === 401) return "authentication_error";
  if (error.status === 403) return "permission_error";
  if (error.status === 429) return "rate_limit_error";
  if (error.status < 500) return "invalid_request_error";
  return "api_error";
}
