import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Cluster } from "../../cluster/cluster.ts";
import type { Clock } from "../../core/clock.ts";
import type { ModelClient } from "../../models/model-client.ts";
import { type QualitySettings, qualityFigure } from "../../quality/quality-figure.ts";
import type { RouteQuality, RouteQualityConfig } from "../../quality/route-quality.ts";
import { routeQualityReport } from "../../quality/route-quality-report.ts";
import type { CircuitSnapshot } from "../../resilience/circuit-breaker.ts";
import { otherModels } from "../../resilience/model-keys.ts";
import type { Store } from "../../store/store.ts";
import type { SeriesBucket } from "../../store/usage-store.ts";
import { foldModels, summarizeDeployments, summarizeUsage } from "../../telemetry/stats-report.ts";
import { seriesBuckets, summarizeSeries } from "../../telemetry/stats-series.ts";
import { parseSince } from "../../telemetry/stats-window.ts";
import type { UsageLedger } from "../../telemetry/usage-ledger.ts";
import type { WorkflowService } from "../../workflows/workflow-service.ts";
import { parseInput } from "../validation.ts";
import { roundUsd } from "../views.ts";

export const circuitSchema = z.object({
  model: z.string(),
  state: z.enum(["closed", "open", "half_open"]),
  consecutive_failures: z.number().int(),
  opened_at: z.string().optional(),
  retry_at: z.string().optional(),
});

// The report's parts are open objects: they grow with the ledger (new counters, the time series), and a
// client reads the fields it knows. The top-level sections are always there.
export const statsSchema = z.looseObject({
  window: z.object({ since: z.string(), until: z.string() }),
  requests: z.looseObject({
    total: z.number().int(),
    by_endpoint: z.record(z.string(), z.number()),
    by_category: z.record(z.string(), z.number()),
    by_status: z.record(z.string(), z.number()),
  }),
  models: z.array(
    z.looseObject({
      model: z.string(),
      role: z.string(),
      calls: z.number().int(),
      cost_usd: z.number(),
      latency_ms: z.object({ p50: z.number(), p95: z.number(), p99: z.number() }).nullable(),
    }),
  ),
  deployments: z
    .array(
      z.looseObject({
        provider: z.string(),
        model: z.string(),
        circuit: z.string(),
        calls: z.number().int(),
        ok: z.number().int(),
        errors: z.number().int(),
        cached: z.number().int(),
        prompt_tokens: z.number().int(),
        completion_tokens: z.number().int(),
        cache_read_tokens: z.number().int(),
        cost_usd: z.number(),
      }),
    )
    .describe(
      "Calls per deployment that made them (the configured provider name and the model id), with the deployment's circuit key",
    ),
  errors: z.looseObject({ upstream_tries: z.number().int(), failed: z.number().int(), rate: z.number() }),
  cost: z.looseObject({ total_usd: z.number(), by_model: z.record(z.string(), z.number()) }),
  savings: z.looseObject({
    baseline_role: z.string(),
    baseline_model: z.string(),
    baseline_usd: z.number(),
    actual_usd: z.number(),
    saved_usd: z.number(),
    saved_percent: z.number().nullable(),
  }),
  cache_hits: z.unknown(),
  prompt_cache: z
    .object({
      input_tokens: z.number().int(),
      cache_read_tokens: z.number().int(),
      cache_write_tokens: z.number().int(),
      cached_share: z.number(),
      saved_usd: z.number(),
      method: z.string(),
    })
    .describe("The upstreams' prompt caches: the cached share of input tokens and what caching saved"),
  quality: z
    .unknown()
    .describe("Judged quality of routed answers against the baseline's, on sampled traffic"),
  routing: z.looseObject({
    quality: z.unknown(),
    speculation: z.looseObject({
      confirmed: z.number().int(),
      refuted: z.number().int(),
      wasted_calls: z.number().int(),
      wasted_usd: z.number(),
      share_of_spend: z.number(),
    }),
  }),
  circuits: z.array(circuitSchema),
  upstream_calls: z.looseObject({
    running: z.number().int(),
    waiting: z.record(z.string(), z.number().int()).describe("Calls waiting, by priority"),
    capacity_per_model: z.number().int(),
  }),
  workflows: z.object({ running: z.number().int() }),
  cluster: z.unknown().optional(),
});

export function circuitView(snapshot: CircuitSnapshot): z.output<typeof circuitSchema> {
  return {
    model: snapshot.key,
    state: snapshot.state,
    consecutive_failures: snapshot.consecutiveFailures,
    ...(snapshot.openedAt === undefined ? {} : { opened_at: new Date(snapshot.openedAt).toISOString() }),
    ...(snapshot.retryAt === undefined ? {} : { retry_at: new Date(snapshot.retryAt).toISOString() }),
  };
}

export const statsQuerySchema = z.object({
  since: z.string().max(64).optional(),
  // With a bucket, /stats adds `series`: the window's figures per hour or UTC day.
  bucket: z.enum(["hour", "day"], { message: "must be hour or day" }).optional(),
});

// Usage over a window of the stored ledger (so it spans restarts), plus the live state of this process:
// circuits, the upstream call queue and running workflows.
export function registerStatsRoutes(
  app: FastifyInstance,
  deps: {
    models: ModelClient;
    workflows: WorkflowService;
    store: Store;
    ledger: UsageLedger;
    cluster: Cluster | undefined;
    clock: Clock;
    routeQuality: RouteQuality | undefined;
    metrics: { speculationCounts(): { readonly confirmed: number; readonly refuted: number } };
    config: RouteQualityConfig & {
      monitoring: QualitySettings & { maxTrackedModels: number };
      queuing: { maxConcurrentCallsPerModel: number };
    };
  },
): void {
  app.get("/stats", async (request) => {
    const query = parseInput(statsQuerySchema, request.query, "query");
    const now = deps.clock.now();
    const since = parseSince(query.since, now);
    await deps.ledger.flush();
    const usage = deps.store.usage;
    // Counted (and a window too long for its bucket refused) before anything is summed.
    const seriesKeys = query.bucket
      ? await seriesKeysFor(usage, query.since === "all", since, now, query.bucket)
      : undefined;
    const [rawCalls, rawDeployments, rawLatencies, requests, escalations, quality, waste, seriesRows] =
      await Promise.all([
        usage.callsByModel(since),
        usage.callsByDeployment(since),
        usage.latenciesByModel(since),
        usage.requestCounts(since),
        usage.escalationCounts(since),
        qualityFigure(usage, since, deps.config.monitoring),
        usage.speculationWaste(since),
        query.bucket && usage.seriesRows(since, query.bucket),
      ]);
    const baseline = deps.models.resolve(deps.config.monitoring.baselineRole);
    const { breakers, scheduler, modelKeys } = deps.models.resilience;
    const queue = scheduler.stats();
    const { calls, latencies } = foldModels(
      rawCalls,
      rawLatencies,
      (model) => modelKeys.isConfigured(model),
      deps.config.monitoring.maxTrackedModels,
    );
    const shownModels = new Set(calls.map((row) => row.model));
    const usageReport = summarizeUsage({
      since,
      until: deps.clock.isoNow(),
      calls,
      latencies,
      requests,
      escalations,
      baseline: { role: baseline.role, model: baseline.definition.model },
    });
    const { window, requests: requestReport, models, ...rest } = usageReport;
    return {
      window,
      requests: requestReport,
      models,
      // Beside the per-model view: which provider answered, so one model id on two providers stays two rows.
      deployments: summarizeDeployments(
        rawDeployments,
        (model) => (shownModels.has(model) ? model : otherModels),
        (model, provider) => modelKeys.keyOf(model, provider),
      ),
      ...rest,
      // Next to the savings: what the routed answers were worth against the baseline's, on sampled traffic.
      quality,
      // What judged quality does to the route now: per category, its standing over routing.quality's window.
      routing: {
        quality: routeQualityReport(deps.routeQuality, deps.config),
        // The likely route's calls started alongside the categorizer: how often the label confirmed them (this
        // process, since it started), and what the refuted ones cost in the window (also in cost.actual_usd).
        speculation: {
          ...deps.metrics.speculationCounts(),
          wasted_calls: waste.calls,
          wasted_usd: roundUsd(waste.costUsd),
          share_of_spend: waste.totalUsd > 0 ? Math.round((waste.costUsd / waste.totalUsd) * 1e4) / 1e4 : 0,
        },
      },
      ...(seriesRows && seriesKeys && query.bucket
        ? {
            series: summarizeSeries({
              rows: seriesRows,
              keys: seriesKeys,
              bucket: query.bucket,
              label: (model) => (shownModels.has(model) ? model : otherModels),
              qualityMinSamples: deps.config.routing.quality.minSamples,
            }),
          }
        : {}),
      circuits: breakers.snapshots().map(circuitView),
      upstream_calls: {
        running: queue.running,
        waiting: queue.waiting,
        capacity_per_model: deps.config.queuing.maxConcurrentCallsPerModel,
        models: scheduler.byModel(),
      },
      workflows: { running: await deps.workflows.runningCount() },
      ...(deps.cluster ? { cluster: await deps.cluster.stats() } : {}),
    };
  });
}

// `since=all` charts from the oldest row kept, not from 1970.
async function seriesKeysFor(
  usage: Store["usage"],
  all: boolean,
  since: string,
  now: number,
  bucket: SeriesBucket,
): Promise<string[]> {
  const from = all ? ((await usage.earliestAt()) ?? new Date(now).toISOString()) : since;
  return seriesBuckets(from, now, bucket);
}
