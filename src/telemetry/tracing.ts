import type { AppConfig } from "../config/index.ts";

// The service's one way to make trace spans. It knows nothing of the OpenTelemetry SDK: with tracing off
// (the default) there is no tracer at all and no span, and every call site's `span?.child(...)` costs a
// property read. With tracing on, the SDK is loaded (otel-tracing.ts) and spans are exported over OTLP.

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

export const tracingOff: Tracing = {
  startSpan: () => undefined,
  continueFrom: () => undefined,
  shutdown: async () => undefined,
};

export type OtlpProtocol = "http/protobuf" | "http/json";

export interface TracingSettings {
  // Where spans are POSTed: the collector's /v1/traces URL.
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly protocol: OtlpProtocol;
  readonly serviceName: string;
  readonly serviceVersion: string;
  readonly sampleRatio: number;
  readonly captureContent: boolean;
  readonly maxQueueSize: number;
}

// Why a span never reached the collector: its queue was full, or its export failed.
export type SpanLoss = "queue_full" | "export_failed";

export interface TracingDeps {
  readonly onSpansLost?: (reason: SpanLoss, count: number) => void;
  // Loads the SDK-backed implementation; tests check it is never loaded with tracing off.
  readonly load?: () => Promise<{
    startOtelTracing: (settings: TracingSettings, deps: TracingDeps) => Tracing;
  }>;
}

// The collector's URL from monitoring.otel: tracesEndpoint as it is, or endpoint + /v1/traces (as the
// OTLP exporters read OTEL_EXPORTER_OTLP_ENDPOINT); undefined when tracing is off.
export function tracingSettings(config: AppConfig, serviceVersion: string): TracingSettings | undefined {
  const otel = config.monitoring.otel;
  const url =
    otel.tracesEndpoint ??
    (otel.endpoint === undefined ? undefined : `${otel.endpoint.replace(/\/+$/, "")}/v1/traces`);
  if (url === undefined || !otel.enabled) return undefined;
  return {
    url,
    headers: otel.headers,
    protocol: otel.protocol,
    serviceName: otel.serviceName,
    serviceVersion,
    sampleRatio: otel.sampleRatio,
    captureContent: otel.captureContent,
    maxQueueSize: otel.maxQueueSize,
  };
}

// The SDK is imported only here, and only with tracing on: a service that does not trace never loads it.
export async function startTracing(
  settings: TracingSettings | undefined,
  deps: TracingDeps = {},
): Promise<Tracing> {
  if (!settings) return tracingOff;
  const load = deps.load ?? (() => import("./otel-tracing.ts"));
  const { startOtelTracing } = await load();
  return startOtelTracing(settings, deps);
}
