import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import packageJson from "../package.json" with { type: "json" };
import { buildServer } from "./api/server.ts";
import { BudgetGuard } from "./budgets/budget-guard.ts";
import { LocalSpendTotals } from "./budgets/spend-totals.ts";
import { ChatService } from "./chat/chat-service.ts";
import { HistorySummarizer } from "./chat/history-summarizer.ts";
import { SessionService } from "./chat/session-service.ts";
import { SessionSweep } from "./chat/session-sweep.ts";
import type { Cluster } from "./cluster/cluster.ts";
import type { AppConfig } from "./config/index.ts";
import { activeProfile, profileKeyVariable, profileProvider } from "./config/profiles.ts";
import type { ProviderEntryConfig } from "./config/schema.ts";
import { type Clock, systemClock } from "./core/clock.ts";
import { type IdGenerator, timeOrderedId } from "./core/ids.ts";
import { processName } from "./core/process-name.ts";
import { registerSecrets } from "./core/secrets.ts";
import { realSleep, type Sleeper } from "./core/sleeper.ts";
import { createLogger } from "./logger.ts";
import { EmbeddingsClient } from "./models/embeddings-client.ts";
import { LiveCatalog } from "./models/live-catalog.ts";
import { MediaClient } from "./models/media-client.ts";
import { ModelCatalog } from "./models/model-catalog.ts";
import { ModelClient } from "./models/model-client.ts";
import { MemoryResponseCache } from "./models/response-cache.ts";
import { AnthropicProvider } from "./providers/anthropic/anthropic-provider.ts";
import type { ChatProvider } from "./providers/chat-provider.ts";
import { GeminiChatProvider } from "./providers/google/gemini-chat-provider.ts";
import { GoogleAiMediaProvider } from "./providers/google/google-ai-media-provider.ts";
import { OpenAiProvider } from "./providers/openai/openai-provider.ts";
import { OpenRouterProvider } from "./providers/openrouter/openrouter-provider.ts";
import { type ProviderEntry, ProviderRegistry } from "./providers/provider-registry.ts";
import { SimulatedEmbeddingsProvider } from "./providers/simulated/simulated-embeddings-provider.ts";
import { SimulatedMediaProvider } from "./providers/simulated/simulated-media-provider.ts";
import { SimulatedProvider } from "./providers/simulated/simulated-provider.ts";
import { type RouteQuality, startRouteQuality } from "./quality/route-quality.ts";
import { registerRouteQualityGauges } from "./quality/route-quality-metrics.ts";
import { ShadowSampler } from "./quality/shadow-sampler.ts";
import { createResilience, type Resilience } from "./resilience/resilience.ts";
import { UpstreamGuard } from "./resilience/upstream-guard.ts";
import { LabelMemo } from "./routing/label-memo.ts";
import { answerCategorizerPrompt } from "./routing/local-categorizer.ts";
import { GroupedTaskWrites } from "./store/grouped-task-writes.ts";
import { openStore } from "./store/open-store.ts";
import type { Store } from "./store/store.ts";
import { Metrics } from "./telemetry/metrics.ts";
import { startTracing } from "./telemetry/tracing.ts";
import { tracingSettings } from "./telemetry/tracing-settings.ts";
import { UsageLedger } from "./telemetry/usage-ledger.ts";
import { createTokenCounter } from "./tokens/token-counter.ts";
import { LocalExecutor } from "./workflows/local-executor.ts";
import type { RunExecutor } from "./workflows/run-executor.ts";
import { RunRecovery } from "./workflows/run-recovery.ts";
import { RunSteps } from "./workflows/run-steps.ts";
import { TemplateCatalog } from "./workflows/template-catalog.ts";
import { WorkflowEngine } from "./workflows/workflow-engine.ts";
import { WorkflowEvents } from "./workflows/workflow-events.ts";
import { WorkflowService } from "./workflows/workflow-service.ts";

export interface AppOptions {
  readonly config: AppConfig;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly newId?: IdGenerator;
  readonly simulatedLatencyMs?: number;
  // Randomness of retry jitter, shadow sampling and the judge's answer order; tests pin it to make them exact.
  readonly random?: () => number;
  // How retries and upstream rate limits wait; tests observe the delays asked for.
  readonly sleep?: Sleeper;
  // Budget totals kept in memory (10,000 by default); tests show what happens past it with a few.
  readonly maxTrackedBudgets?: number;
}

export interface App {
  readonly server: FastifyInstance;
  readonly store: Store;
  readonly models: ModelClient;
  readonly media: MediaClient;
  readonly workflows: WorkflowService;
  // Takes over runs whose process was lost (at start-up, then every half lease).
  readonly recovery: RunRecovery;
  readonly sessions: SessionService;
  // Folds turns that leave a session's history window into its summary, in the background.
  readonly summarizer: HistorySummarizer;
  // Deletes sessions idle past sessions.ttlDays.
  readonly sessionSweep: SessionSweep;
  // Background answers and judgings for the quality figure.
  readonly shadow: ShadowSampler;
  // Judged quality per category, which the router reads (routing.quality); undefined when it or shadow
  // sampling is off.
  readonly routeQuality: RouteQuality | undefined;
  readonly logger: Logger;
  // Present when workflows run on a queue (system.redisUrl).
  readonly cluster: Cluster | undefined;
  // Makes this process a queue worker; only with a cluster.
  startWorker(): void;
  // Stops taking requests, lets background runs finish (or cancels them after graceMs), closes the store.
  close(graceMs?: number): Promise<void>;
}

export const version: string = packageJson.version;

// The composition root: the only place that knows every part and picks the implementations.
export async function createApp(options: AppOptions): Promise<App> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const newId: IdGenerator = options.newId ?? timeOrderedId;
  const logger = options.logger ?? createLogger(config.system.logLevel);
  const store = await openStore(config.system, clock);
  // Redis and the queue are loaded only when configured.
  const parts = config.system.redisUrl ? await import("./cluster/parts.ts") : undefined;
  const cluster =
    parts && config.system.redisUrl
      ? new parts.Cluster(config.system.redisUrl, config.cluster, logger)
      : undefined;
  await cluster?.ready();
  // Loaded from the window's stored verdicts before any request, then fed by the shadow sampler.
  const routeQuality = await startRouteQuality(config, { store: store.usage, clock, logger });
  const tokens = createTokenCounter();
  const profile = activeProfile(config);
  const catalog = new ModelCatalog(config.models, {
    unknownModel: config.budgets.unknownModel,
    passthrough:
      profile === "openrouter" || profile === "offline"
        ? { provider: "openrouter" }
        : { provider: profileProvider[profile], vendor: profile },
  });
  // Whatever an upstream echoes back, these never reach a response or a log line.
  registerSecrets([
    config.api_keys.openrouter,
    config.api_keys.google_ai,
    ...Object.values(config.providers).flatMap((entry) => ("apiKey" in entry ? [entry.apiKey] : [])),
    // A provider's own credential headers (an Azure api-key, a gateway token).
    ...Object.values(config.providers).flatMap((entry) =>
      "headers" in entry
        ? Object.entries(entry.headers)
            .filter(([name]) => /key|token|auth|secret/i.test(name))
            .map(([, value]) => value)
        : [],
    ),
    ...config.api_keys.clients,
    // A collector's API key or basic credentials.
    ...Object.values(config.monitoring.otel.headers),
  ]);
  const openrouterKey = config.api_keys.openrouter;
  const openrouter = openrouterKey
    ? new OpenRouterProvider({
        apiKey: openrouterKey,
        baseUrl: config.providers.openrouter.baseUrl,
        appUrl: config.providers.openrouter.appUrl,
        appName: config.providers.openrouter.appName,
        defaultTimeoutMs: config.errorHandling.requestTimeoutMs,
      })
    : undefined;
  const resilience = createResilience(config, {
    now: () => clock.now(),
    ...(options.random ? { random: options.random } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(cluster && parts
      ? {
          limiter: new parts.SharedRateLimiter({
            redis: cluster.redis,
            keyPrefix: config.cluster.keyPrefix,
            limitFor: (model) =>
              config.rateLimits.upstream.models[model] ?? config.rateLimits.upstream.default,
            now: () => clock.now(),
            sleep: realSleep,
          }),
        }
      : {}),
  });
  if (cluster && parts) {
    await parts.shareCircuits({
      breakers: resilience.breakers,
      redis: cluster.redis,
      subscriber: cluster.subscriber,
      keyPrefix: config.cluster.keyPrefix,
      openMs: config.errorHandling.circuitBreaker.timeoutSeconds * 1000,
      now: () => clock.now(),
      logger,
    });
  }
  resilience.breakers.onStateChange(({ key, from, to, origin }) => {
    const log = to === "open" ? logger.warn.bind(logger) : logger.info.bind(logger);
    const where = origin === "remote" ? " (decided by another replica)" : "";
    log({ model: key, from, to, origin }, `circuit ${to.replace("_", "-")} for ${key}${where}`);
  });
  const metrics = new Metrics({
    breakers: resilience.breakers,
    scheduler: resilience.scheduler,
    modelLabel: (model, provider) => resilience.modelKeys.labelOf(model, provider),
    runningWorkflows: () => executor.runningCount(),
    cluster: cluster ? () => cluster.stats() : undefined,
  });
  // With routing.quality on: each followed category's judged quality and whether it is stepped up.
  if (routeQuality) registerRouteQualityGauges(metrics.registry, () => routeQuality.standings());
  // Traces are off unless a collector is configured; the OpenTelemetry SDK is loaded only then.
  const settings = tracingSettings(config, version);
  const tracing = await startTracing(settings, settings ? { onSpansLost: metrics.spanLossCounter() } : {});
  const flushLedger = () => ledger.flush();
  const budget = new BudgetGuard({
    limits: { ...config.budgets, shadowPerDayUsd: config.monitoring.shadow.maxDailyUsd },
    clock,
    totals:
      cluster && parts
        ? new parts.SharedSpendTotals({
            redis: cluster.redis,
            keyPrefix: config.cluster.keyPrefix,
            store: store.usage,
            flush: flushLedger,
            logger,
          })
        : new LocalSpendTotals(store.usage, flushLedger, { maxTracked: options.maxTrackedBudgets }),
  });
  const ledger = new UsageLedger({
    store: store.usage,
    baseline: catalog.require(config.monitoring.baselineRole).definition,
    clock,
    listeners: [metrics],
    logger,
    flushIntervalMs: config.monitoring.writeBatchMs,
  });
  const cache = !config.cache.enabled
    ? undefined
    : cluster && parts
      ? new parts.SharedResponseCache({
          redis: cluster.redis,
          keyPrefix: config.cluster.keyPrefix,
          ttlSeconds: config.cache.ttlSeconds,
        })
      : new MemoryResponseCache(config.cache);
  const live = new LiveCatalog({
    fetchModels: openrouter ? (signal) => openrouter.listModels(signal) : undefined,
    configured: catalog.openRouterModels(),
    refreshMs: config.providers.openrouter.catalogRefreshMinutes * 60_000,
    clock,
    logger,
    timeoutMs: 5_000,
    builtInPricing: (model) => catalog.builtInPricingOf(model),
  });
  catalog.attachLive(live);
  await live.start();
  const providers = registerProviders(config, openrouter, resilience, options.simulatedLatencyMs ?? 0);
  const guard = new UpstreamGuard({
    resilience,
    now: () => clock.now(),
    recorder: ledger,
    // Every try reserves its worst-case cost against the budgets first.
    hooks: [budget],
    onRetry: ({ call, attempt, delayMs, error }) =>
      logger.info({ model: call.model, attempt, delayMs, code: error.code }, "retrying upstream call"),
  });
  const models = new ModelClient({
    catalog,
    providers,
    live: profile !== "offline",
    guard,
    clock,
    logger,
    recorder: ledger,
    budget,
    ...(cache ? { cache } : {}),
    // The same source as the rest of the service: a test that fixes it fixes which deployment is drawn.
    ...(options.random ? { random: options.random } : {}),
  });
  const media = new MediaClient({
    catalog,
    providers,
    guard,
    clock,
    budget,
    videoSeconds: config.providers.google_ai.videoSeconds,
  });
  const embeddings = new EmbeddingsClient({ catalog, providers, guard, clock, budget });
  const events = new WorkflowEvents(cluster?.events);
  const engine = new WorkflowEngine({
    models,
    media,
    store,
    taskWrites: new GroupedTaskWrites(store),
    events,
    addons: config.addons,
    clock,
    newId,
    workerId: processName(),
    ledger,
    maxPromptChars: config.orchestration.maxPromptChars,
    taskRetries: {
      maxRetries: config.orchestration.maxRetries,
      backoff: config.errorHandling.retry,
      sleep: resilience.sleep,
      random: resilience.random,
    },
  });
  const steps = new RunSteps({ config, models, store, events, engine, tokens, clock, logger });
  // Names this process instance in the leases it holds (a restarted process is another instance).
  const leaseOwner = `${processName()}:${randomUUID().slice(0, 8)}`;
  const leaseMs = config.orchestration.runLeaseMs;
  const executor: RunExecutor =
    cluster && parts
      ? new parts.QueueExecutor({
          queue: cluster.queue,
          cancels: cluster.cancels,
          events,
          store,
          clock,
          leaseMs,
        })
      : new LocalExecutor({ store, steps, events, clock, logger, leaseOwner, leaseMs, slots: guard });
  const workflows = new WorkflowService({ config, models, store, steps, executor, newId });
  const recovery = new RunRecovery({
    store,
    steps,
    executor,
    events,
    clock,
    logger,
    leaseOwner,
    settings: {
      resumeOnStart: config.orchestration.resumeOnStart,
      leaseMs,
      maxRecoveries: config.orchestration.maxRecoveries,
      defaultTimeoutSeconds: config.orchestration.defaultTimeoutSeconds,
    },
  });
  const templates = new TemplateCatalog(config.templates, workflows);
  const { shadow: shadowConfig } = config.monitoring;
  const shadow = new ShadowSampler({
    config: shadowConfig,
    models,
    baselineRole: shadowConfig.baselineRole ?? config.monitoring.baselineRole,
    judgeRole: shadowConfig.judgeRole,
    store: store.usage,
    clock,
    random: options.random ?? Math.random,
    logger,
    onRecorded: routeQuality ? (entry) => routeQuality.record(entry) : undefined,
  });
  const summarizer = new HistorySummarizer({
    store,
    models,
    tokens,
    policy: config.sessions.history,
    logger,
  });
  const sessionSweep = new SessionSweep({
    store,
    clock,
    logger,
    settings: { ttlDays: config.sessions.ttlDays, intervalMinutes: config.sessions.sweepIntervalMinutes },
  });
  const chat = new ChatService({
    config,
    models,
    store,
    tokens,
    workflows,
    clock,
    newId,
    logger,
    shadow,
    metrics,
    labels: new LabelMemo(config.routing.memo, clock),
    quality: routeQuality,
    summarizer,
  });
  const sessions = new SessionService({ config, store, models, newId, logger });
  const server = await buildServer({
    config,
    logger,
    clock,
    newId,
    models,
    media,
    embeddings,
    tokens,
    store,
    chat,
    sessions,
    workflows,
    templates,
    events,
    ledger,
    metrics,
    routeQuality,
    cluster,
    tracing,
    startedAt: clock.now(),
    version,
  });

  recovery.start();
  sessionSweep.start();

  const startWorker = () => {
    if (!cluster || !parts) throw new Error("a worker needs REDIS_URL: the queue lives in Redis");
    cluster.startWorker(
      new parts.RunDriver({ steps, store, queue: cluster.queue, clock, logger, tracing }),
      () => ledger.flush(),
    );
  };

  const close = async (graceMs = 10_000) => {
    live.stop();
    recovery.stop();
    await sessionSweep.stop();
    await server.close();
    await cluster?.close(graceMs);
    await executor.close(graceMs);
    await sessions.settled();
    await summarizer.close();
    await shadow.close();
    await tokens.close();
    await ledger.flush();
    await tracing.shutdown();
    await store.close();
  };
  return {
    server,
    store,
    models,
    media,
    workflows,
    recovery,
    sessions,
    summarizer,
    sessionSweep,
    shadow,
    routeQuality,
    logger,
    cluster,
    startWorker,
    close,
  };
}

// What stands behind each provider name. With no key at all the service runs offline: every keyed
// provider is simulated (a keyless local server is still called). Otherwise a provider without its key
// stays registered and refuses its roles, naming the variable to set; a single-key profile has already
// moved the OpenRouter roles to its own provider (config/profiles.ts).
function registerProviders(
  config: AppConfig,
  openrouter: OpenRouterProvider | undefined,
  resilience: Resilience,
  simulatedLatencyMs: number,
): ProviderRegistry {
  const providers = new ProviderRegistry();
  const profile = activeProfile(config);
  const offline = profile === "offline";
  const simulated = new SimulatedProvider({
    latencyMs: simulatedLatencyMs,
    classify: answerCategorizerPrompt,
  });
  const timeoutMs = config.errorHandling.requestTimeoutMs;
  const onProfile = `the ${profile} profile is in force (${profileKeyVariable[profile]} is set)`;
  if (openrouter) {
    providers.register("openrouter", {
      kinds: ["chat", "embeddings", "image"],
      chat: openrouter,
      embeddings: openrouter,
      media: openrouter,
    });
  } else if (offline) {
    providers.register("openrouter", {
      kinds: ["chat", "embeddings", "image"],
      chat: simulated,
      embeddings: new SimulatedEmbeddingsProvider(),
      media: new SimulatedMediaProvider(),
    });
  } else {
    providers.register("openrouter", { kinds: [], missing: `no OPENROUTER_API_KEY is set; ${onProfile}` });
  }
  const google = config.providers.google_ai;
  if (config.api_keys.google_ai) {
    providers.register("google_ai", {
      kinds: ["chat", "image", "video"],
      chat: new GeminiChatProvider({
        name: "google_ai",
        baseUrl: google.baseUrl,
        apiKey: config.api_keys.google_ai,
        defaultTimeoutMs: timeoutMs,
      }),
      media: googleMedia(config, config.api_keys.google_ai, google.baseUrl, resilience),
    });
  } else if (offline) {
    providers.register("google_ai", {
      kinds: ["chat", "image", "video"],
      chat: simulated,
      media: new SimulatedMediaProvider(),
    });
  } else {
    providers.register("google_ai", {
      kinds: [],
      missing:
        'no GEMINI_API_KEY (or GOOGLE_AI_API_KEY) is set (images can come from OpenRouter instead: give the role provider "openrouter" and an image model such as google/gemini-nano-banana-2.1)',
    });
  }
  for (const [name, entry] of Object.entries(config.providers)) {
    if (name === "openrouter" || name === "google_ai") continue;
    providers.register(
      name,
      configuredProvider(name, entry as ProviderEntryConfig, {
        config,
        resilience,
        offline,
        simulated,
        timeoutMs,
      }),
    );
  }
  return providers;
}

// A provider the config describes as data: its type's implementation, keyed or keyless.
function configuredProvider(
  name: string,
  entry: ProviderEntryConfig,
  context: {
    config: AppConfig;
    resilience: Resilience;
    offline: boolean;
    simulated: ChatProvider;
    timeoutMs: number;
  },
): ProviderEntry {
  if (entry.apiKeyEnv !== undefined && !entry.apiKey) {
    if (context.offline) {
      return {
        kinds: ["chat", "embeddings"],
        chat: context.simulated,
        embeddings: new SimulatedEmbeddingsProvider(),
      };
    }
    return { kinds: [], missing: `no ${entry.apiKeyEnv} is set` };
  }
  const common = {
    name,
    baseUrl: entry.baseUrl,
    apiKey: entry.apiKey,
    headers: entry.headers,
    defaultTimeoutMs: context.timeoutMs,
  };
  switch (entry.type) {
    case "openai": {
      const provider = new OpenAiProvider(common);
      return { kinds: ["chat", "embeddings"], chat: provider, embeddings: provider };
    }
    case "anthropic":
      return { kinds: ["chat"], chat: new AnthropicProvider(common) };
    case "google":
      return {
        kinds: ["chat", "image", "video"],
        chat: new GeminiChatProvider(common),
        media: googleMedia(context.config, entry.apiKey, entry.baseUrl, context.resilience),
      };
    case "openrouter": {
      const provider = new OpenRouterProvider({
        apiKey: entry.apiKey,
        baseUrl: entry.baseUrl,
        defaultTimeoutMs: context.timeoutMs,
      });
      return {
        kinds: ["chat", "embeddings", "image"],
        chat: provider,
        embeddings: provider,
        media: provider,
      };
    }
  }
}

function googleMedia(config: AppConfig, apiKey: string, baseUrl: string, resilience: Resilience) {
  const google = config.providers.google_ai;
  return new GoogleAiMediaProvider({
    apiKey,
    baseUrl,
    pollIntervalMs: google.pollIntervalMs,
    imageMode: google.imageMode,
    videoSeconds: google.videoSeconds,
    sleep: resilience.sleep,
  });
}
