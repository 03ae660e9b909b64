// The one error model: every failure carries a kind (what to do about it), a code (what happened),
// an HTTP status and whether retrying can help. Decided once, where the error is made.

export const errorKinds = ["transient", "persistent", "resource", "logical", "fatal"] as const;
export type ErrorKind = (typeof errorKinds)[number];

const defaultStatusByKind: Record<ErrorKind, number> = {
  transient: 503,
  persistent: 502,
  resource: 503,
  logical: 400,
  fatal: 500,
};

export interface OrchestratorErrorOptions {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly message: string;
  readonly status?: number;
  readonly retryable?: boolean;
  readonly model?: string;
  readonly field?: string;
  readonly retryAfterMs?: number;
  readonly upstreamStatus?: number;
  // Further facts for the client, added to the error body as they are (say, an estimate and its cap).
  readonly details?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown;
}

export interface ErrorBody {
  readonly error: {
    readonly type: ErrorKind;
    readonly code: string;
    readonly message: string;
    readonly retryable: boolean;
    readonly model?: string;
    readonly field?: string;
  };
}

const marker = Symbol.for("master-ai-orchestrator.error");

export class OrchestratorError extends Error {
  readonly [marker] = true;
  readonly kind: ErrorKind;
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;
  readonly model: string | undefined;
  readonly field: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly upstreamStatus: number | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(options: OrchestratorErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "OrchestratorError";
    this.kind = options.kind;
    this.code = options.code;
    this.status = options.status ?? defaultStatusByKind[options.kind];
    this.retryable = options.retryable ?? options.kind === "transient";
    this.model = options.model;
    this.field = options.field;
    this.retryAfterMs = options.retryAfterMs;
    this.upstreamStatus = options.upstreamStatus;
    this.details = options.details;
  }

  // Works across duplicated module copies, unlike instanceof.
  static isInstance(value: unknown): value is OrchestratorError {
    return typeof value === "object" && value !== null && marker in value;
  }

  toBody(): ErrorBody {
    return {
      error: {
        type: this.kind,
        code: this.code,
        message: this.message,
        retryable: this.retryable,
        ...(this.model === undefined ? {} : { model: this.model }),
        ...(this.field === undefined ? {} : { field: this.field }),
        ...this.details,
      },
    };
  }
}

export function invalidRequest(field: string, message: string): OrchestratorError {
  return new OrchestratorError({
    kind: "logical",
    code: "invalid_request",
    status: 400,
    field,
    message: field ? `${field}: ${message}` : message,
  });
}

export function notFound(what: string, id: string): OrchestratorError {
  return new OrchestratorError({
    kind: "logical",
    code: "not_found",
    status: 404,
    message: `${what} '${id}' was not found`,
  });
}

export function toOrchestratorError(value: unknown): OrchestratorError {
  if (OrchestratorError.isInstance(value)) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new OrchestratorError({ kind: "fatal", code: "internal_error", message, cause: value });
}
