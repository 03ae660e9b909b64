import type { OrchestratorError } from "../../core/errors.ts";
import { type TimedSignal, timedSignal } from "../../core/timed-signal.ts";
import { callUnderDeadline, classifyCall } from "../provider-call.ts";
import type { UpstreamHttp } from "../upstream-http.ts";

// What every OpenRouter call shares: the keep-alive pool to the upstream and the default deadline.
export interface OpenRouterConnection {
  readonly http: UpstreamHttp;
  readonly defaultTimeoutMs: number;
}

interface CallRequest {
  readonly model: string;
  readonly signal?: AbortSignal | undefined;
  readonly timeoutMs?: number | undefined;
}

// One deadline for the whole call, streaming included, joined with the caller's own cancellation.
export function callDeadline(connection: OpenRouterConnection, request: CallRequest): TimedSignal {
  return timedSignal(request.signal, request.timeoutMs ?? connection.defaultTimeoutMs);
}

// Whatever the call threw: when its own signal ended it, the reason is the deadline or the caller.
export function classifyCallError(
  error: unknown,
  request: CallRequest,
  deadline: { timedOut: () => boolean },
): OrchestratorError {
  return classifyCall(error, "openrouter", request, deadline);
}

// Runs one non-streamed call under its deadline, classifying whatever it throws.
export function withDeadline<T>(
  connection: OpenRouterConnection,
  request: CallRequest,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  return callUnderDeadline("openrouter", request, connection.defaultTimeoutMs, call);
}
