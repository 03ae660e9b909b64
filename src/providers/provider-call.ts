import { OrchestratorError } from "../core/errors.ts";
import { scrubSecrets } from "../core/secrets.ts";
import { timedSignal } from "../core/timed-signal.ts";
import type { ToolCall } from "./chat-provider.ts";
import { classifyUpstreamError, errorFromHttpStatus } from "./upstream-error.ts";

// Pieces every wire type's provider uses the same way: refusing what its upstream cannot take, assembling
// streamed tool calls, reading data URLs, and turning whatever a call threw into the service's errors.

// A parameter the target's API does not take: refused before anything is sent, naming it, as a 400 that no
// retry, fallback or circuit acts on (another try would fail the same way).
export function parameterNotSupported(
  provider: string,
  model: string,
  names: readonly string[],
  why: string,
): OrchestratorError {
  const list = names.map((name) => `'${name}'`).join(", ");
  return new OrchestratorError({
    kind: "logical",
    code: "unsupported_parameter",
    status: 400,
    retryable: false,
    model,
    message: `${list} cannot be sent to ${provider} model ${model}: ${why}`,
  });
}

// The request parameters (upstreamParams) a type cannot take: those not in `allowed`.
export function unsupportedParams(
  params: Readonly<Record<string, unknown>> | undefined,
  allowed: ReadonlySet<string>,
): string[] {
  return Object.keys(params ?? {}).filter((name) => !allowed.has(name));
}

export function fromDataUrl(url: string): { mediaType: string; data: string } | undefined {
  const match = /^data:([\w.+-]+\/[\w.+-]+);base64,(.+)$/s.exec(url);
  if (!match?.[1] || !match[2]) return undefined;
  return { mediaType: match[1], data: match[2] };
}

// A tool call's fragment in OpenAI's streamed shape (delta.tool_calls), which the API layer relays as is.
export interface ToolCallDelta {
  readonly index: number;
  readonly id?: string;
  readonly type?: "function";
  readonly function?: { readonly name?: string; readonly arguments?: string };
}

// Tool calls arrive in fragments keyed by index: the first carries id and name, later ones more arguments.
export class ToolCallAssembler {
  readonly #byIndex = new Map<number, { id: string; name: string; arguments: string }>();

  // Any fragment of that shape, whatever its `type` says (OpenAI's SDK types also name custom tools).
  add(deltas: readonly Omit<ToolCallDelta, "type">[]): void {
    for (const delta of deltas) {
      const current = this.#byIndex.get(delta.index) ?? { id: "", name: "", arguments: "" };
      if (delta.id) current.id = delta.id;
      if (delta.function?.name) current.name += delta.function.name;
      if (delta.function?.arguments) current.arguments += delta.function.arguments;
      this.#byIndex.set(delta.index, current);
    }
  }

  calls(): ToolCall[] {
    return [...this.#byIndex.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, call]) => ({
        id: call.id,
        type: "function",
        function: { name: call.name, arguments: call.arguments },
      }));
  }
}

// One non-streamed call under one deadline (the request's own timeout, else the provider's default) joined
// with the caller's cancellation; whatever it throws is classified once, here.
export async function callUnderDeadline<T>(
  provider: string,
  request: {
    readonly model: string;
    readonly signal?: AbortSignal | undefined;
    readonly timeoutMs?: number | undefined;
  },
  defaultTimeoutMs: number,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const deadline = timedSignal(request.signal, request.timeoutMs ?? defaultTimeoutMs);
  try {
    return await call(deadline.signal);
  } catch (error) {
    throw classifyCall(error, provider, request, deadline);
  } finally {
    deadline.dispose();
  }
}

// Whatever a call threw: when its own signal ended it, the reason is the deadline or the caller.
export function classifyCall(
  error: unknown,
  provider: string,
  request: { readonly model: string; readonly signal?: AbortSignal | undefined },
  deadline: { timedOut: () => boolean },
): OrchestratorError {
  const own = OrchestratorError.isInstance(error);
  return classifyUpstreamError(error, {
    provider,
    model: request.model,
    timedOut: !own && deadline.timedOut(),
    cancelled: !own && request.signal?.aborted === true,
  });
}

// An error the upstream reported inside a 2xx body or a stream event; `status` when it names one.
export function reportedError(
  provider: string,
  model: string,
  status: number | undefined,
  message: unknown,
  midStream: boolean,
): OrchestratorError {
  const reason = typeof message === "string" && message ? scrubSecrets(message) : "no reason given";
  const code = status !== undefined && status >= 400 && status <= 599 ? status : 502;
  const error = errorFromHttpStatus({ status: code, reason, where: `${provider} model ${model}`, model });
  if (!midStream) return error;
  return new OrchestratorError({
    kind: "transient",
    code: "upstream_stream_error",
    status: 502,
    model,
    upstreamStatus: code,
    message: `${provider} model ${model} failed mid-stream: ${reason}`,
    cause: error,
  });
}

// A stream that ended before the upstream said it was done: the answer was cut off.
export function streamCutOff(provider: string, model: string, received: number, missing: string) {
  return new OrchestratorError({
    kind: "transient",
    code: "upstream_truncated",
    status: 502,
    model,
    message: `${provider} model ${model} ended its stream after ${received} characters without ${missing}: the answer was cut off`,
  });
}

export function parseEvent<T>(data: string, provider: string, model: string): T {
  try {
    return JSON.parse(data) as T;
  } catch {
    throw new OrchestratorError({
      kind: "transient",
      code: "upstream_malformed",
      status: 502,
      model,
      message: `${provider} model ${model}: a stream event is not JSON`,
    });
  }
}

// The whole text of a message's content, its parts joined.
export function joinedText(content: string | readonly { type: string; text?: string }[]): string {
  if (typeof content === "string") return content;
  return content
    .filter((part) => part.type === "text")
    .map((part) => part.text ?? "")
    .join("\n");
}

// A tool call's arguments (a JSON text) as the object the native APIs take; anything else is no arguments.
export function toolArguments(text: string): unknown {
  try {
    const value = JSON.parse(text || "{}") as unknown;
    return typeof value === "object" && value !== null ? value : {};
  } catch {
    return {};
  }
}
