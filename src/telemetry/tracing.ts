import type { Tracing } from "../core/trace-span.ts";
import type { TracingDeps, TracingSettings } from "./tracing-settings.ts";

// The service's one way to make trace spans. It knows nothing of the OpenTelemetry SDK: with tracing off
// (the default) there is no tracer at all and no span, and every call site's `span?.child(...)` costs a
// property read. With tracing on, the SDK is loaded (otel-tracing.ts) and spans are exported over OTLP.

export const tracingOff: Tracing = {
  startSpan: () => undefined,
  continueFrom: () => undefined,
  shutdown: async () => undefined,
};

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
