import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import packageJson from "../package.json" with { type: "json" };
import { buildServer } from "./api/server.ts";
import { ChatService } from "./chat/chat-service.ts";
import { SessionService } from "./chat/session-service.ts";
import type { AppConfig } from "./config/index.ts";
import { type Clock, systemClock } from "./core/clock.ts";
import { type IdGenerator, randomId } from "./core/ids.ts";
import { createLogger } from "./logger.ts";
import { ModelCatalog } from "./models/model-catalog.ts";
import { ModelClient } from "./models/model-client.ts";
import { OpenRouterProvider } from "./providers/openrouter/openrouter-provider.ts";
import { SimulatedProvider } from "./providers/simulated/simulated-provider.ts";
import { createResilience } from "./resilience/resilience.ts";
import { openStore } from "./store/open-store.ts";
import type { Store } from "./store/store.ts";
import { createTokenCounter } from "./tokens/token-counter.ts";
import { RunRegistry } from "./workflows/run-registry.ts";

export interface AppOptions {
  readonly config: AppConfig;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly newId?: IdGenerator;
  readonly simulatedLatencyMs?: number;
  // Randomness of retry jitter; tests pin it to make backoff gaps exact.
  readonly random?: () => number;
}

export interface App {
  readonly server: FastifyInstance;
  readonly store: Store;
  readonly models: ModelClient;
  readonly runs: RunRegistry;
  readonly sessions: SessionService;
  readonly logger: Logger;
  readonly interruptedRuns: number;
  // Stops taking requests, lets background runs finish (or cancels them after graceMs), closes the store.
  close(graceMs?: number): Promise<void>;
}

export const version: string = packageJson.version;

// The composition root: the only place that knows every part and picks the implementations.
export async function createApp(options: AppOptions): Promise<App> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const newId = options.newId ?? randomId;
  const logger = options.logger ?? createLogger(config.system.logLevel);
  const store = await openStore(config.system, clock);
  const interruptedRuns = await store.markRunningAsInterrupted();
  const tokens = createTokenCounter();
  const catalog = new ModelCatalog(config.models);
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
  const simulated = new SimulatedProvider({ latencyMs: options.simulatedLatencyMs ?? 0 });
  const resilience = createResilience(config, {
    now: () => clock.now(),
    ...(options.random ? { random: options.random } : {}),
  });
  resilience.breakers.onStateChange(({ key, from, to }) => {
    const log = to === "open" ? logger.warn.bind(logger) : logger.info.bind(logger);
    log({ model: key, from, to }, `circuit ${to.replace("_", "-")} for ${key}`);
  });
  const models = new ModelClient({ catalog, openrouter, simulated, clock, resilience, logger });
  const runs = new RunRegistry();
  const chat = new ChatService({ config, models, store, tokens, runs, clock, newId, logger });
  const sessions = new SessionService({ config, store, models, newId, logger });
  const server = await buildServer({
    config,
    logger,
    clock,
    newId,
    models,
    store,
    chat,
    sessions,
    runs,
    startedAt: clock.now(),
    version,
  });

  const close = async (graceMs = 10_000) => {
    await server.close();
    const idle = runs.waitForIdle().then(() => true);
    const inTime = await Promise.race([idle, delay(graceMs).then(() => false)]);
    if (!inTime) await runs.abortAll(new Error("server shutting down"));
    await sessions.settled();
    await tokens.close();
    await store.close();
  };
  return { server, store, models, runs, sessions, logger, interruptedRuns, close };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
