import { Writable } from "node:stream";
import { ChatService } from "../../src/chat/chat-service.ts";
import { HistorySummarizer } from "../../src/chat/history-summarizer.ts";
import { parseConfig } from "../../src/config/index.ts";
import type { Clock } from "../../src/core/clock.ts";
import { createLogger } from "../../src/logger.ts";
import { MediaClient } from "../../src/models/media-client.ts";
import { ModelCatalog } from "../../src/models/model-catalog.ts";
import { ModelClient } from "../../src/models/model-client.ts";
import type { ChatProvider } from "../../src/providers/chat-provider.ts";
import { ProviderRegistry } from "../../src/providers/provider-registry.ts";
import { createResilience } from "../../src/resilience/resilience.ts";
import { UpstreamGuard } from "../../src/resilience/upstream-guard.ts";
import { GroupedTaskWrites } from "../../src/store/grouped-task-writes.ts";
import { openStore } from "../../src/store/open-store.ts";
import type { CallRecorder, UpstreamCall } from "../../src/store/upstream-call.ts";
import { UsageLedger } from "../../src/telemetry/usage-ledger.ts";
import { createTokenCounter } from "../../src/tokens/token-counter.ts";
import { LocalExecutor } from "../../src/workflows/local-executor.ts";
import { RunSteps } from "../../src/workflows/run-steps.ts";
import { WorkflowEngine } from "../../src/workflows/workflow-engine.ts";
import { WorkflowEvents } from "../../src/workflows/workflow-events.ts";
import { WorkflowService } from "../../src/workflows/workflow-service.ts";
import { InMemoryChatProvider } from "./in-memory-provider.ts";
import { virtualTime } from "./virtual-time.ts";

export interface InMemoryServicesOptions {
  // Config as a file would give it, over the test defaults below.
  readonly config?: Record<string, unknown>;
  readonly provider?: InMemoryChatProvider;
  // More chat providers, by the name deployments give them ("local", say), beside "openrouter"; or one
  // that stands behind "openrouter" itself (a real provider in front of a fake upstream).
  readonly providers?: Readonly<Record<string, ChatProvider>>;
  // Draws the order of a role's deployments (ModelClient's `random`).
  readonly random?: () => number;
}

// The model client, chat pipeline and workflow executor composed as the app composes them (src/app.ts),
// but with no HTTP: an in-memory provider behind "openrouter", an in-memory SQLite store, and a clock
// that moves only when a retry or backoff sleeps.
export async function inMemoryServices(options: InMemoryServicesOptions = {}) {
  const provider = options.provider ?? new InMemoryChatProvider();
  const time = virtualTime(Date.parse("2026-01-01T00:00:00.000Z"));
  const clock: Clock = { now: time.now, isoNow: () => new Date(time.now()).toISOString() };
  let ids = 0;
  const newId = () => `00000000-0000-4000-8000-${String(++ids).padStart(12, "0")}`;
  const config = parseConfig(
    merge(
      {
        routing: { speculate: { enabled: false }, memo: { enabled: false }, warmup: { enabled: false } },
      },
      options.config ?? {},
    ),
    { DATABASE_URL: ":memory:" },
    "test",
  );
  const logs: string[] = [];
  const logger = createLogger(
    "debug",
    new Writable({
      write(chunk, _encoding, done) {
        logs.push(String(chunk));
        done();
      },
    }),
  );
  const store = await openStore(config.system, clock);
  const catalog = new ModelCatalog(config.models, { unknownModel: config.budgets.unknownModel });
  const resilience = createResilience(config, { now: time.now, sleep: time.sleep, random: () => 0.5 });
  const providers = new ProviderRegistry().register("openrouter", { kinds: ["chat"], chat: provider });
  // (Registered after it, an "openrouter" entry here replaces the in-memory one.)
  for (const [name, chat] of Object.entries(options.providers ?? {})) {
    providers.register(name, { kinds: ["chat"], chat });
  }
  const ledger = new UsageLedger({
    store: store.usage,
    baseline: catalog.require(config.monitoring.baselineRole).definition,
    clock,
    listeners: [],
    logger,
  });
  // Every call as the ledger is told of it, in order.
  const calls: UpstreamCall[] = [];
  const recorder: CallRecorder = {
    record(call) {
      calls.push(call);
      ledger.record(call);
    },
  };
  const guard = new UpstreamGuard({ resilience, now: time.now, recorder, hooks: [] });
  const models = new ModelClient({
    catalog,
    providers,
    live: true,
    guard,
    clock,
    logger,
    recorder,
    ...(options.random ? { random: options.random } : {}),
  });
  const media = new MediaClient({ catalog, providers, guard, clock });
  const events = new WorkflowEvents();
  const engine = new WorkflowEngine({
    models,
    media,
    store,
    taskWrites: new GroupedTaskWrites(store),
    events,
    addons: config.addons,
    clock,
    newId,
    workerId: "test-worker",
    ledger,
    maxPromptChars: config.orchestration.maxPromptChars,
    taskRetries: {
      maxRetries: config.orchestration.maxRetries,
      backoff: config.errorHandling.retry,
      sleep: time.sleep,
      random: () => 0.5,
    },
  });
  const tokens = createTokenCounter();
  const steps = new RunSteps({ config, models, store, events, engine, tokens, clock, logger });
  const executor = new LocalExecutor({
    store,
    steps,
    events,
    clock,
    logger,
    leaseOwner: "test-process",
    leaseMs: config.orchestration.runLeaseMs,
    slots: guard,
  });
  const workflows = new WorkflowService({ config, models, store, steps, executor, newId });
  const summarizer = new HistorySummarizer({
    store,
    models,
    tokens,
    policy: config.sessions.history,
    logger,
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
    summarizer,
  });
  return {
    provider,
    config,
    time,
    clock,
    store,
    ledger,
    models,
    engine,
    executor,
    workflows,
    chat,
    summarizer,
    events,
    logs,
    calls,
    // Refuted speculative calls as the stored ledger counts them.
    async speculationWaste() {
      await ledger.flush();
      return store.usage.speculationWaste("1970-01-01T00:00:00.000Z");
    },
    async close() {
      await summarizer.close();
      await executor.close(0);
      await tokens.close();
      await ledger.flush();
      await store.close();
    },
  };
}

export type InMemoryServices = Awaited<ReturnType<typeof inMemoryServices>>;

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] =
      isRecord(current) && isRecord(value) ? merge(current, value) : (value as Record<string, unknown>);
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
