import { OrchestratorError } from "../core/errors.ts";
import { scrubSecrets } from "../core/secrets.ts";
import { RequestBuildError, UpstreamHttpError, UpstreamProtocolError } from "./upstream-http.ts";

// An answer that is not what the provider's API promises (no choices, no image, not JSON): the upstream's
// fault, so another try or another model may do.
export function malformedAnswer(provider: string, model: string, what: string): OrchestratorError {
  return new OrchestratorError({
    kind: "transient",
    code: "upstream_malformed",
    status: 502,
    model,
    message: `${provider} model ${model}: ${what}`,
  });
}

// A request that could not be built here was never sent: retrying or a fallback would fail the same way,
// and no circuit may count it, or one client's odd request could take a model away from everyone. A stack
// overflow (RangeError) means the request was too large or deep to encode; anything else is the service's.
export function requestNotBuilt(
  provider: string,
  model: string,
  error: RequestBuildError,
): OrchestratorError {
  const tooBig = error.cause instanceof RangeError;
  return new OrchestratorError({
    kind: "logical",
    code: tooBig ? "request_too_complex" : "request_build_failed",
    status: tooBig ? 400 : 500,
    retryable: false,
    model,
    message: tooBig
      ? `the request could not be encoded for ${provider} model ${model} (it is nested too deeply or too large); nothing was sent`
      : `the request to ${provider} model ${model} could not be built; nothing was sent`,
    cause: error,
  });
}

// Translates whatever an upstream call threw into the service's error model, once, at the edge.
// `timedOut` and `cancelled` say whether the call's own signal ended it, and why.
export function classifyUpstreamError(
  error: unknown,
  context: {
    readonly provider: string;
    readonly model: string;
    readonly timedOut: boolean;
    readonly cancelled?: boolean;
  },
): OrchestratorError {
  if (OrchestratorError.isInstance(error)) return error;
  const where = `${context.provider} model ${context.model}`;
  const { model } = context;
  if (error instanceof RequestBuildError) return requestNotBuilt(context.provider, context.model, error);
  if (context.timedOut) {
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
  if (context.cancelled) {
    return new OrchestratorError({
      kind: "logical",
      code: "cancelled",
      status: 499,
      model,
      message: `call to ${where} was cancelled`,
      cause: error,
    });
  }
  if (error instanceof UpstreamHttpError) {
    return errorFromHttpStatus({
      status: error.status,
      reason: error.reason,
      where,
      model,
      retryAfterMs: parseRetryAfter(error.retryAfter),
      cause: error,
    });
  }
  if (error instanceof UpstreamProtocolError) {
    return new OrchestratorError({
      kind: "transient",
      code: "upstream_malformed",
      status: 502,
      model,
      message: `${where}: ${scrubSecrets(error.message)}`,
      cause: error,
    });
  }
  const message = scrubSecrets(error instanceof Error ? error.message : String(error));
  // Socket-level failures (refused, reset, closed mid-answer) carry a system or undici error code.
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && /^(E[A-Z]+|UND_ERR)/.test(code)) {
    return new OrchestratorError({
      kind: "transient",
      code: "upstream_unreachable",
      status: 503,
      model,
      message: `cannot reach ${where}: ${message}`,
      cause: error,
    });
  }
  return new OrchestratorError({
    kind: "transient",
    code: "upstream_error",
    status: 502,
    model,
    message: `${where} failed: ${message}`,
    cause: error,
  });
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
  // An upstream may echo the credentials it was sent (a 401 naming the key): they never go further.
  const message = `${input.where} answered ${status}: ${scrubSecrets(reason)}`;
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

// Retry-After is either delay-seconds or an HTTP date.
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
