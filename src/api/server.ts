import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";
import type { ChatService } from "../chat/chat-service.ts";
import type { SessionService } from "../chat/session-service.ts";
import type { Cluster } from "../cluster/cluster.ts";
import type { AppConfig } from "../config/index.ts";
import type { Clock } from "../core/clock.ts";
import { type IdGenerator, requestIdPattern } from "../core/ids.ts";
import type { Tracing } from "../core/trace-span.ts";
import type { EmbeddingsClient } from "../models/embeddings-client.ts";
import type { MediaClient } from "../models/media-client.ts";
import type { ModelClient } from "../models/model-client.ts";
import type { RouteQuality } from "../quality/route-quality.ts";
import type { Store } from "../store/store.ts";
import type { Metrics } from "../telemetry/metrics.ts";
import type { UsageLedger } from "../telemetry/usage-ledger.ts";
import type { TokenCounter } from "../tokens/token-counter.ts";
import type { TemplateCatalog } from "../workflows/template-catalog.ts";
import type { WorkflowEvents } from "../workflows/workflow-events.ts";
import type { WorkflowService } from "../workflows/workflow-service.ts";
import { installClientAuth } from "./client-auth.ts";
import { registerClientRateLimit } from "./client-rate-limit.ts";
import { registerCors } from "./cors.ts";
import { frameworkErrors, installErrorHandling, maxPathParamLength } from "./error-handler.ts";
import { installJsonBodyParser } from "./json-body.ts";
import { installRequestDeadline } from "./request-deadline.ts";
import { installRequestTracking } from "./request-tracking.ts";
import { ResponseMemory } from "./responses/response-memory.ts";
import { registerArtifactRoutes } from "./routes/artifact-routes.ts";
import { registerCatalogRoutes } from "./routes/catalog-routes.ts";
import { registerChatRoutes } from "./routes/chat-routes.ts";
import { registerEmbeddingsRoutes } from "./routes/embeddings-routes.ts";
import { registerHealthRoutes } from "./routes/health-routes.ts";
import { registerImagesRoutes } from "./routes/images-routes.ts";
import { registerMessagesRoutes } from "./routes/messages-routes.ts";
import { registerMetricsRoute } from "./routes/metrics-routes.ts";
import { registerModelListRoutes } from "./routes/model-list-routes.ts";
import { registerOpenAiRoutes } from "./routes/openai-routes.ts";
import { registerOpenApiRoutes } from "./routes/openapi-routes.ts";
import { registerRequestRoutes } from "./routes/request-routes.ts";
import { registerResponsesRoutes } from "./routes/responses-routes.ts";
import { registerSessionRoutes } from "./routes/session-routes.ts";
import { registerStatsRoutes } from "./routes/stats-routes.ts";
import { registerWebRoutes } from "./routes/web-routes.ts";
import { registerWorkflowRoutes } from "./routes/workflow-routes.ts";
import { Tenancy } from "./tenancy.ts";

export interface ServerDeps {
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly newId: IdGenerator;
  readonly models: ModelClient;
  readonly media: MediaClient;
  readonly embeddings: EmbeddingsClient;
  readonly tokens: TokenCounter;
  readonly store: Store;
  readonly chat: ChatService;
  readonly sessions: SessionService;
  readonly workflows: WorkflowService;
  readonly templates: TemplateCatalog;
  readonly events: WorkflowEvents;
  readonly ledger: UsageLedger;
  readonly metrics: Metrics;
  // Judged quality feeding the route; undefined when routing.quality or shadow sampling is off.
  readonly routeQuality: RouteQuality | undefined;
  readonly cluster: Cluster | undefined;
  // Makes the requests' server spans; absent or off, none are made.
  readonly tracing?: Tracing;
  readonly startedAt: number;
  readonly version: string;
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.config.system.maxBodyBytes,
    trustProxy: deps.config.system.trustProxy,
    ...serverTimeouts(deps.config.system.timeouts),
    // Room for the longest ids the API takes (session ids of 128 characters); longer ones get the error shape.
    routerOptions: { maxParamLength: maxPathParamLength },
    frameworkErrors,
    // A caller's request id is kept when it looks like one, so a request can be followed across services;
    // anything else (too long, odd characters) is replaced. (Fastify's requestIdHeader would take any value.)
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers["x-request-id"];
      return typeof given === "string" && requestIdPattern.test(given) ? given : deps.newId();
    },
    // One line per request is written by request tracking, with the request id from the context.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: (logger) => logger,
  });
  installRequestTracking(app, {
    logger: deps.logger,
    ledger: deps.ledger,
    metrics: deps.metrics,
    now: () => deps.clock.isoNow(),
    ...(deps.tracing ? { tracing: deps.tracing } : {}),
  });
  // The one door to what belongs to a client (see tenancy.ts).
  const tenancy = new Tenancy({ ...deps, responses: new ResponseMemory(deps.config.responses) });
  installRequestDeadline(app, deps.config.errorHandling.callDeadlineMs, () => deps.clock.now());
  installErrorHandling(app);
  installJsonBodyParser(app, deps.config.system.maxJsonDepth);
  await registerCors(app, deps.config.system.corsOrigins);
  installClientAuth(app, deps.config.api_keys.clients);
  await registerClientRateLimit(
    app,
    deps.config.rateLimits.clients.requestsPerMinute,
    deps.cluster ? { redis: deps.cluster.redis, keyPrefix: deps.config.cluster.keyPrefix } : undefined,
  );
  registerHealthRoutes(app, deps);
  registerCatalogRoutes(app, deps.models.catalog, deps.config.addons);
  registerChatRoutes(app, deps.chat, deps.newId);
  registerOpenAiRoutes(app, deps);
  registerResponsesRoutes(app, { ...deps, tenancy }, deps.config.system.maxBodyBytes);
  registerMessagesRoutes(app, deps);
  registerModelListRoutes(app, {
    catalog: deps.models.catalog,
    internalRoles: [
      deps.config.routing.categorizer.role,
      deps.config.orchestration.finishRole,
      deps.config.orchestration.failureRole,
    ],
    autoContextTokens: deps.config.routing.preRouting.maxContextTokens,
  });
  registerEmbeddingsRoutes(app, deps.embeddings);
  registerImagesRoutes(app, {
    media: deps.media,
    catalog: deps.models.catalog,
    tenancy,
    newId: deps.newId,
    clock: deps.clock,
    callDeadlineMs: deps.config.errorHandling.callDeadlineMs,
    publicUrl: deps.config.system.publicUrl,
  });
  registerSessionRoutes(app, tenancy, deps.models);
  registerWorkflowRoutes(app, { ...deps, tenancy });
  registerArtifactRoutes(app, tenancy);
  registerRequestRoutes(app, tenancy);
  registerStatsRoutes(app, deps);
  registerOpenApiRoutes(app, {
    version: deps.version,
    clientKeys: deps.config.api_keys.clients.length > 0,
    serverUrl: deps.config.system.publicUrl,
  });
  await registerWebRoutes(app);
  if (deps.config.monitoring.metricsEnabled)
    registerMetricsRoute(app, {
      metrics: deps.metrics,
      usage: deps.store.usage,
      clock: deps.clock,
      monitoring: deps.config.monitoring,
    });
  return app;
}

// Node checks the header and request timeouts on an interval (30 s by default); a shorter one makes a
// stalled request end close to its timeout rather than up to 30 s after it.
function serverTimeouts(timeouts: AppConfig["system"]["timeouts"]) {
  return {
    connectionTimeout: timeouts.connectionMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    requestTimeout: timeouts.bodyMs,
    http: {
      headersTimeout: timeouts.headersMs,
      connectionsCheckingInterval: Math.min(5_000, Math.max(100, Math.floor(timeouts.headersMs / 4))),
    },
  };
}
