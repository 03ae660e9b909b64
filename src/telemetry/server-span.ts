import type { FastifyRequest } from "fastify";
import type { TraceSpan, Tracing } from "../core/trace-span.ts";

// The HTTP request's server span, continuing the client's W3C traceparent when it sent one. Only the
// method, route pattern and path are recorded: never the query string (it may hold a key) nor headers.
export function startServerSpan(
  tracing: Tracing | undefined,
  request: FastifyRequest,
  endpoint: string,
): TraceSpan | undefined {
  if (!tracing) return undefined;
  const { traceparent, tracestate } = request.headers;
  return tracing.startSpan(`${request.method} ${endpoint}`, {
    kind: "server",
    parent: {
      traceparent: typeof traceparent === "string" ? traceparent : undefined,
      tracestate: typeof tracestate === "string" ? tracestate : undefined,
    },
    attributes: {
      "http.request.method": request.method,
      "http.route": endpoint,
      "url.path": request.url.split("?", 1)[0],
      "orchestrator.request_id": request.id,
    },
  });
}

export function endServerSpan(
  span: TraceSpan,
  entry: {
    readonly status: number;
    readonly category: string | null;
    readonly routeRule: string | null;
    readonly cacheHit: boolean;
  },
): void {
  span.set({
    "http.response.status_code": entry.status,
    "orchestrator.category": entry.category ?? undefined,
    "orchestrator.route_rule": entry.routeRule ?? undefined,
    "orchestrator.cache_hit": entry.cacheHit,
  });
  // Server spans are errors on 5xx only: a 4xx is the client's.
  if (entry.status >= 500) span.fail(String(entry.status));
  span.end();
}
