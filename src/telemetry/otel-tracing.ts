import {
  type Attributes,
  type Context,
  createNoopMeter,
  type Meter,
  type MeterProvider,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapSetter,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import type { SpanAttributes, SpanOptions, TraceCarrier, TraceSpan, Tracing } from "../core/trace-span.ts";
import type { SpanLoss, TracingDeps, TracingSettings } from "./tracing-settings.ts";

// Loaded only with tracing on (see tracing.ts). Spans are handed to a batch processor with a bounded
// queue and exported in the background: a collector that is down, slow or refusing costs a request
// nothing; what is lost is counted (orchestrator_trace_spans_lost_total).

const kinds = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
} as const;

const propagator = new W3CTraceContextPropagator();
const getter: TextMapGetter<TraceCarrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => (key === "traceparent" || key === "tracestate" ? carrier[key] : undefined),
};
const setter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

// Export failures are the exporter's; a batch is never retried for longer than this.
const exportTimeoutMs = 10_000;
const shutdownWaitMs = 2_000;

export function startOtelTracing(settings: TracingSettings, deps: TracingDeps): Tracing {
  const Exporter = settings.protocol === "http/json" ? JsonExporter : ProtobufExporter;
  const exporter = new Exporter({
    url: settings.url,
    headers: { ...settings.headers },
    timeoutMillis: exportTimeoutMs,
  });
  const processor = new BatchSpanProcessor({
    exporter,
    maxQueueSize: settings.maxQueueSize,
    maxExportBatchSize: Math.min(512, settings.maxQueueSize),
    scheduledDelayMillis: 1_000,
    exportTimeoutMillis: exportTimeoutMs,
    ...(deps.onSpansLost ? { selfObsMeterProvider: lossCounter(deps.onSpansLost) } : {}),
  });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: settings.serviceName,
      [ATTR_SERVICE_VERSION]: settings.serviceVersion,
    }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRatio) }),
    spanProcessors: [processor],
  });
  // Never registered globally: only this service's code makes spans, with explicit parents.
  const tracer = provider.getTracer("master-ai-orchestrator", settings.serviceVersion);

  const open = (name: string, options: SpanOptions, parent: Context): TraceSpan | undefined => {
    const span = tracer.startSpan(
      name,
      {
        kind: kinds[options.kind ?? "internal"],
        ...(options.attributes ? { attributes: clean(options.attributes) } : {}),
        ...(options.startTime === undefined ? {} : { startTime: options.startTime }),
      },
      parent,
    );
    // An unsampled span records nothing: its children are not made either.
    return span.isRecording() ? new OtelSpan(span, open, settings.captureContent) : undefined;
  };

  return {
    startSpan: (name, options = {}) => open(name, options, remoteContext(options.parent)),
    continueFrom: (parent) => {
      const context = remoteContext(parent);
      const span = trace.getSpan(context);
      if (!span || !trace.isSpanContextValid(span.spanContext())) return undefined;
      return new RemoteParent(context, open, settings.captureContent, parent ?? {});
    },
    // A graceful stop exports what is queued, but never waits long on a collector that is not there.
    shutdown: () =>
      withinMs(
        provider.shutdown().catch(() => undefined),
        shutdownWaitMs,
      ),
  };
}

type Opener = (name: string, options: SpanOptions, parent: Context) => TraceSpan | undefined;

class OtelSpan implements TraceSpan {
  readonly #span: Span;
  readonly #open: Opener;
  readonly capturesContent: boolean;
  #ended = false;

  constructor(span: Span, open: Opener, capturesContent: boolean) {
    this.#span = span;
    this.#open = open;
    this.capturesContent = capturesContent;
  }

  set(attributes: SpanAttributes): void {
    this.#span.setAttributes(clean(attributes));
  }

  fail(errorType: string, message?: string): void {
    this.#span.setAttribute("error.type", errorType);
    this.#span.setStatus({ code: SpanStatusCode.ERROR, ...(message ? { message } : {}) });
  }

  child(name: string, options: SpanOptions = {}): TraceSpan {
    return this.#open(name, options, trace.setSpan(ROOT_CONTEXT, this.#span)) ?? inert;
  }

  end(endTime?: number): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#span.end(endTime);
  }

  carrier(): TraceCarrier {
    const carrier: Record<string, string> = {};
    propagator.inject(trace.setSpan(ROOT_CONTEXT, this.#span), carrier, setter);
    return carrier;
  }
}

// A span of another process (the request that queued a job), standing in as the parent of local spans.
class RemoteParent implements TraceSpan {
  readonly #context: Context;
  readonly #open: Opener;
  readonly #carrier: TraceCarrier;
  readonly capturesContent: boolean;

  constructor(context: Context, open: Opener, capturesContent: boolean, carrier: TraceCarrier) {
    this.#context = context;
    this.#open = open;
    this.capturesContent = capturesContent;
    this.#carrier = carrier;
  }

  set(): void {}
  fail(): void {}
  end(): void {}

  child(name: string, options: SpanOptions = {}): TraceSpan {
    return this.#open(name, options, this.#context) ?? inert;
  }

  carrier(): TraceCarrier {
    return this.#carrier;
  }
}

// What a child of an unsampled parent is: nothing recorded, nothing made below it.
const inert: TraceSpan = {
  capturesContent: false,
  set: () => undefined,
  fail: () => undefined,
  child: () => inert,
  end: () => undefined,
  carrier: () => ({}),
};

function remoteContext(parent: TraceCarrier | undefined): Context {
  if (!parent?.traceparent) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, parent, getter);
}

// Undefined values are left out rather than recorded as empty.
function clean(attributes: SpanAttributes): Attributes {
  const result: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== undefined) result[key] = value as Attributes[string];
  }
  return result;
}

// The batch processor counts the spans it finishes in otel.sdk.processor.span.processed, with error.type
// "queue_full" for those it dropped and the exporter's error name for those whose export failed. That
// counter is the only one read here; every other instrument is a no-op.
function lossCounter(onLost: (reason: SpanLoss, count: number) => void): MeterProvider {
  const base = createNoopMeter();
  const meter = Object.create(base) as Meter;
  meter.createCounter = ((name: string, options) => {
    if (name !== "otel.sdk.processor.span.processed") return base.createCounter(name, options);
    return {
      add: (count: number, attributes?: Attributes) => {
        const error = attributes?.["error.type"];
        if (error === undefined) return;
        onLost(error === "queue_full" ? "queue_full" : "export_failed", count);
      },
    };
  }) as Meter["createCounter"];
  return { getMeter: () => meter };
}

function withinMs(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
