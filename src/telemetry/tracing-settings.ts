import type { AppConfig } from "../config/index.ts";
import type { Tracing } from "../core/trace-span.ts";

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
