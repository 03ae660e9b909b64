import { OrchestratorError } from "../../core/errors.ts";
import { scrubSecrets } from "../../core/secrets.ts";
import { errorFromHttpStatus, malformedAnswer } from "../upstream-error.ts";

// An error object in a 200 body or a stream event: its code is an HTTP status when it is one.
export function bodyError(failure: unknown, model: string, when?: "mid-stream"): OrchestratorError {
  const { code, message } = (failure ?? {}) as { code?: unknown; message?: unknown };
  const reason = typeof message === "string" && message ? scrubSecrets(message) : "no reason given";
  const status = typeof code === "number" && code >= 400 && code <= 599 ? code : 502;
  const error = errorFromHttpStatus({ status, reason, where: `openrouter model ${model}`, model });
  if (when !== "mid-stream") return error;
  return new OrchestratorError({
    kind: "transient",
    code: "upstream_stream_error",
    status: 502,
    model,
    upstreamStatus: status,
    message: `openrouter model ${model} failed mid-stream: ${reason}`,
    cause: error,
  });
}

export function malformed(model: string, what: string): OrchestratorError {
  return malformedAnswer("openrouter", model, what);
}

export function truncated(model: string, received: number): OrchestratorError {
  return new OrchestratorError({
    kind: "transient",
    code: "upstream_truncated",
    status: 502,
    model,
    message: `openrouter model ${model} ended its stream after ${received} characters without [DONE] or a finish_reason: the answer was cut off`,
  });
}

// The model answered without an image (a refusal in words, or a filter): asking again will not help.
export function noImage(
  model: string,
  text: string | null | undefined,
  finishReason: string | null | undefined,
): OrchestratorError {
  const said = text?.trim() ? `: ${text.trim().slice(0, 300)}` : "";
  return new OrchestratorError({
    kind: "persistent",
    code: "generation_refused",
    status: 422,
    model,
    message: `openrouter model ${model} made no image for this prompt (${finishReason ?? "no reason given"})${said}`,
  });
}
