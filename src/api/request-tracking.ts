import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { type RequestContext, runWithContext } from "../core/request-context.ts";
import type { Tracing } from "../core/trace-span.ts";
import { overheadMs, UpstreamTime } from "../core/upstream-time.ts";
import type { Metrics } from "../telemetry/metrics.ts";
import { endServerSpan, startServerSpan } from "../telemetry/server-span.ts";
import type { UsageLedger } from "../telemetry/usage-ledger.ts";

declare module "fastify" {
  interface FastifyRequest {
    orchestration: RequestContext | undefined;
  }
}

// Probes and scrapes: counted in the metrics, but neither logged at info nor kept in the request log.
const quietEndpoints = new Set(["/health", "/metrics"]);

// Gives every request its context (request id, endpoint, cache wishes) for everything it causes, and
// when it ends writes one log line, one request-log row and its metrics.
export function installRequestTracking(
  app: FastifyInstance,
  deps: { logger: Logger; ledger: UsageLedger; metrics: Metrics; now: () => string; tracing?: Tracing },
): void {
  app.decorateRequest("orchestration", undefined);

  app.addHook("onRequest", (request, reply, done) => {
    reply.header("x-request-id", request.id);
    const cacheControl = request.headers["cache-control"];
    const endpoint = endpointOf(request);
    const span = quietEndpoints.has(endpoint) ? undefined : startServerSpan(deps.tracing, request, endpoint);
    const context: RequestContext = {
      requestId: request.id,
      endpoint,
      skipCache: cacheControl !== undefined && /\b(no-cache|no-store)\b/i.test(String(cacheControl)),
      upstreamTime: new UpstreamTime(),
      span,
    };
    request.orchestration = context;
    runWithContext(context, done);
  });

  // Once the server is stopping, answers to the requests still in flight close their connection: a
  // keep-alive connection left open would hold the graceful stop for the whole keep-alive timeout, and the
  // stop would then end with a kill (losing what it had yet to write) instead of a clean exit.
  let closing = false;
  app.addHook("preClose", (done) => {
    closing = true;
    done();
  });

  // Callback hooks rather than async ones: every request passes here, and a promise per hook adds up.
  app.addHook("onSend", (request, reply, payload, done) => {
    if (closing) reply.header("connection", "close");
    if (request.orchestration?.cacheHit) reply.header("x-cache", "HIT");
    reply.header(overheadHeader, overheadSoFar(reply));
    done(null, payload);
  });

  app.addHook("onResponse", (request, reply, done) => {
    const context = request.orchestration;
    const entry = {
      at: deps.now(),
      requestId: request.id,
      method: request.method,
      endpoint: endpointOf(request),
      status: reply.statusCode,
      category: context?.category ?? null,
      latencyMs: reply.elapsedTime,
      cacheHit: context?.cacheHit === true,
      sessionId: context?.sessionId ?? null,
      routeRule: context?.routeRule ?? null,
      routeTrace: context?.routeTrace ?? null,
      clientId: context?.clientId ?? null,
      workflowId: context?.startedWorkflowId ?? null,
    };
    if (context?.span) endServerSpan(context.span, entry);
    deps.metrics.onRequest(entry);
    deps.metrics.onOverhead(entry.endpoint, overheadMs(reply.elapsedTime, context?.upstreamTime));
    const quiet = quietEndpoints.has(entry.endpoint);
    if (!quiet) deps.ledger.recordRequest(entry);
    const fields = {
      request_id: request.id,
      method: entry.method,
      endpoint: entry.endpoint,
      status: entry.status,
      ms: Math.round(entry.latencyMs * 10) / 10,
      ...(entry.category ? { category: entry.category } : {}),
      ...(entry.routeRule ? { rule: entry.routeRule } : {}),
      ...(entry.cacheHit ? { cache: "hit" } : {}),
    };
    if (quiet) deps.logger.debug(fields, "request completed");
    else deps.logger.info(fields, "request completed");
    done();
  });
}

export const overheadHeader = "x-orchestrator-overhead-ms";

// The service's own time in the request so far (everything but upstream calls), in ms with 0.01 ms
// precision, for the response header. A stream's headers leave before its answer, so its header covers
// the time until then; the metrics take the whole request.
export function overheadSoFar(reply: FastifyReply): string {
  return overheadMs(reply.elapsedTime, reply.request.orchestration?.upstreamTime).toFixed(2);
}

// The route's pattern (/workflow/:id), so metrics and logs group by endpoint, not by id.
function endpointOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? "unmatched";
}
