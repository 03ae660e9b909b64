// The service's one way to make trace spans, as every layer sees it: the span a piece of work belongs to
// travels in the request context (request-context.ts); the OpenTelemetry-backed implementation is in
// telemetry/otel-tracing.ts.

export type SpanAttributeValue = string | number | boolean | readonly string[];
export type SpanAttributes = Readonly<Record<string, SpanAttributeValue | undefined>>;
export type SpanKind = "internal" | "server" | "client" | "producer" | "consumer";

export interface SpanOptions {
  readonly kind?: SpanKind;
  readonly attributes?: SpanAttributes;
  // When the span began (ms since the epoch), for spans recorded once their work is over.
  readonly startTime?: number;
}

// W3C trace context as headers carry it, and as queued jobs carry it to the workers.
export interface TraceCarrier {
  readonly traceparent?: string | undefined;
  readonly tracestate?: string | undefined;
}

export interface TraceSpan {
  // Whether prompts and answers may be recorded (monitoring.otel.captureContent).
  readonly capturesContent: boolean;
  set(attributes: SpanAttributes): void;
  // Marks the span failed, with the error's type (error.type) and a message.
  fail(errorType: string, message?: string): void;
  child(name: string, options?: SpanOptions): TraceSpan;
  // Idempotent.
  end(endTime?: number): void;
  // This span's context, to continue the trace in another process.
  carrier(): TraceCarrier;
}

export interface Tracing {
  // A span that starts a trace, or continues the remote one `parent` names; undefined when tracing is off
  // or the trace is not sampled.
  startSpan(name: string, options?: SpanOptions & { readonly parent?: TraceCarrier }): TraceSpan | undefined;
  // The remote span `parent` names, as a parent for local spans (a worker continuing a request's trace);
  // it is never exported itself.
  continueFrom(parent: TraceCarrier | undefined): TraceSpan | undefined;
  // Exports what is queued; resolves also when the collector cannot be reached.
  shutdown(): Promise<void>;
}
