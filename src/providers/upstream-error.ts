import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai";
import { OrchestratorError } from "../core/errors.ts";

// Translates whatever an upstream call threw into the service's error model, once, at the edge.
export function classifyUpstreamError(
  error: unknown,
  context: { readonly provider: string; readonly model: string; readonly timedOut: boolean },
): OrchestratorError {
  if (OrchestratorError.isInstance(error)) return error;
  const where = `${context.provider} model ${context.model}`;
  const { model } = context;
  if (context.timedOut || error instanceof APIConnectionTimeoutError) {
    return new OrchestratorError({
      kind: "resource",
      code: "upstream_timeout",
      status: 504,
      retryable: true,
      model,
      message: `${where} did not answer in time`,
      cause: error,
    });
  }
  if (error instanceof APIUserAbortError) {
    return new OrchestratorError({
      kind: "logical",
      code: "cancelled",
      status: 499,
      model,
      message: `call to ${where} was cancelled`,
      cause: error,
    });
  }
  if (error instanceof APIConnectionError) {
    return new OrchestratorError({
      kind: "transient",
      code: "upstream_unreachable",
      status: 503,
      model,
      message: `cannot reach ${where}: ${error.message}`,
      cause: error,
    });
  }
  if (error instanceof APIError) return fromStatus(error, where, model);
  const message = error instanceof Error ? error.message : String(error);
  return new OrchestratorError({
    kind: "transient",
    code: "upstream_error",
    status: 502,
    model,
    message: `${where} failed: ${message}`,
    cause: error,
  });
}

function fromStatus(error: APIError, where: string, model: string): OrchestratorError {
  const reason = upstreamReason(error);
  if (error.status === undefined) {
    // An error event inside a stream that had already started.
    return new OrchestratorError({
      kind: "transient",
      code: "upstream_stream_error",
      status: 502,
      model,
      cause: error,
      message: `${where} failed mid-stream: ${reason}`,
    });
  }
  const retryAfterMs = parseRetryAfter(error.headers?.get("retry-after") ?? null);
  return errorFromHttpStatus({ status: error.status, reason, where, model, retryAfterMs, cause: error });
}

// One mapping from an upstream's HTTP status to the service's error kinds, for every provider.
export function errorFromHttpStatus(input: {
  readonly status: number;
  readonly reason: string;
  readonly where: string;
  readonly model: string;
  readonly retryAfterMs?: number | undefined;
  readonly cause?: unknown;
}): OrchestratorError {
  const { status, reason, model, retryAfterMs } = input;
  const base = { model, upstreamStatus: status, cause: input.cause } as const;
  const message = `${input.where} answered ${status}: ${reason}`;
  if (status === 429) {
    return new OrchestratorError({
      ...base,
      kind: "transient",
      code: "upstream_rate_limited",
      status: 503,
      retryAfterMs,
      message,
    });
  }
  if (status === 408 || status === 503) {
    return new OrchestratorError({
      ...base,
      kind: "transient",
      code: "upstream_unavailable",
      status: 503,
      retryAfterMs,
      message,
    });
  }
  if (status === 500 || status === 502 || status === 504 || status >= 520) {
    return new OrchestratorError({
      ...base,
      kind: "transient",
      code: "upstream_error",
      status: 502,
      retryAfterMs,
      message,
    });
  }
  if (status === 401 || status === 403) {
    return new OrchestratorError({
      ...base,
      kind: "persistent",
      code: "upstream_auth_failed",
      status: 502,
      message,
    });
  }
  if (status === 402) {
    return new OrchestratorError({
      ...base,
      kind: "persistent",
      code: "upstream_payment_required",
      status: 502,
      message,
    });
  }
  if (status === 404) {
    return new OrchestratorError({
      ...base,
      kind: "persistent",
      code: "upstream_model_not_found",
      status: 502,
      message,
    });
  }
  if (status === 413 || /context|too (long|large)|maximum.*tokens/i.test(reason)) {
    return new OrchestratorError({
      ...base,
      kind: "resource",
      code: "upstream_context_too_large",
      status: 502,
      message,
    });
  }
  return new OrchestratorError({
    ...base,
    kind: "persistent",
    code: "upstream_bad_request",
    status: 502,
    message,
  });
}

function upstreamReason(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  if (body && typeof body.message === "string" && body.message) return body.message;
  return error.message;
}

// Retry-After is either delay-seconds or an HTTP date.
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
