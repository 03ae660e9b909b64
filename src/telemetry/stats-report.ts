import { errorKinds } from "../core/errors.ts";
import { otherModels } from "../resilience/model-keys.ts";
import type { DeploymentUsageRow, ModelUsageRow, RequestCountRow } from "../store/usage-store.ts";

export interface StatsInput {
  readonly since: string;
  readonly until: string;
  readonly calls: readonly ModelUsageRow[];
  readonly latencies: ReadonlyMap<string, readonly number[]>;
  readonly requests: readonly RequestCountRow[];
  readonly escalations: Readonly<Record<string, number>>;
  readonly baseline: { readonly role: string; readonly model: string };
}

export const savingsMethod =
  "baseline_usd prices every answering call of the window (answers, plans, workflow tasks, final answers) at the " +
  "baseline role's list prices per token, as if all traffic had gone to that model unrouted; routing overhead " +
  "(categorizer, acknowledgements, warm-ups) and session summaries are left out of the baseline, images and videos cost the same in both, " +
  "and answers from the response cache count at their original tokens. actual_usd is what the window really " +
  "cost, overhead included. saved_usd = baseline_usd - actual_usd; saved_percent = saved_usd / baseline_usd. " +
  "Shadow calls (baseline answers and judgings sampled for the quality figure) are left out of both sides; " +
  "their cost is cost.shadow_usd.";

export const promptCacheMethod =
  "input_tokens counts every prompt token sent upstream in the window; cache_read_tokens and cache_write_tokens " +
  "are the part of it the upstreams read from and wrote to their prompt caches, as they reported it; " +
  "cached_share = cache_read_tokens / input_tokens. saved_usd = cache reads x (input price - cache read price) " +
  "- cache writes x (cache write price - input price), at each model's prices, also where the upstream " +
  "reported the cost itself.";

// The stored part of /stats: requests, calls, latency, errors, cost and savings over a window of the ledger.
export function summarizeUsage(input: StatsInput) {
  const models = new Map<string, ModelSummary>();
  const errorsByKind: Record<string, number> = Object.fromEntries(errorKinds.map((kind) => [kind, 0]));
  let upstreamTries = 0;
  let failedTries = 0;
  let totalUsd = 0;
  let actualUsd = 0;
  let baselineUsd = 0;
  let shadowUsd = 0;
  let cacheSavedUsd = 0;
  let cacheHits = 0;
  const promptCache = { inputTokens: 0, readTokens: 0, writeTokens: 0, savedUsd: 0 };
  for (const row of input.calls) {
    const summary = models.get(row.model) ?? emptySummary(row.model, row.role);
    models.set(row.model, summary);
    summary.calls += row.calls;
    summary.prompt_tokens += row.outcome === "cached" ? 0 : row.promptTokens;
    summary.completion_tokens += row.outcome === "cached" ? 0 : row.completionTokens;
    summary.cost_usd += row.costUsd;
    totalUsd += row.costUsd;
    if (row.shadow) shadowUsd += row.costUsd;
    else {
      actualUsd += row.costUsd;
      baselineUsd += row.baselineUsd;
    }
    if (row.outcome === "cached") {
      summary.cached += row.calls;
      cacheHits += row.calls;
      cacheSavedUsd += row.savedUsd;
      continue;
    }
    upstreamTries += row.calls;
    summary.cache_read_tokens += row.cacheReadTokens;
    promptCache.inputTokens += row.promptTokens;
    promptCache.readTokens += row.cacheReadTokens;
    promptCache.writeTokens += row.cacheWriteTokens;
    promptCache.savedUsd += row.cacheSavedUsd;
    if (row.outcome === "ok") summary.ok += row.calls;
    else {
      summary.errors += row.calls;
      failedTries += row.calls;
      errorsByKind[row.outcome] = (errorsByKind[row.outcome] ?? 0) + row.calls;
    }
  }
  for (const [model, latencies] of input.latencies) {
    const summary = models.get(model);
    if (summary) summary.latency_ms = percentiles(latencies);
  }

  const byEndpoint: Record<string, number> = {};
  const byCategory: Record<string, number> = {};
  const byStatus: Record<string, number> = {};
  let requests = 0;
  let requestCacheHits = 0;
  for (const row of input.requests) {
    requests += row.requests;
    requestCacheHits += row.cacheHits;
    byEndpoint[row.endpoint] = (byEndpoint[row.endpoint] ?? 0) + row.requests;
    const category = row.category ?? "none";
    byCategory[category] = (byCategory[category] ?? 0) + row.requests;
    byStatus[String(row.status)] = (byStatus[String(row.status)] ?? 0) + row.requests;
  }

  const modelList = [...models.values()].map((m) => ({ ...m, cost_usd: usd(m.cost_usd) }));
  const saved = baselineUsd - actualUsd;
  return {
    window: { since: input.since, until: input.until },
    requests: {
      total: requests,
      by_endpoint: byEndpoint,
      by_category: byCategory,
      by_status: byStatus,
      answered_from_cache: requestCacheHits,
      escalated: {
        total: Object.values(input.escalations).reduce((sum, n) => sum + n, 0),
        by_reason: input.escalations,
      },
    },
    models: modelList,
    errors: {
      upstream_tries: upstreamTries,
      failed: failedTries,
      rate: upstreamTries === 0 ? 0 : round(failedTries / upstreamTries, 4),
      by_kind: errorsByKind,
      rate_by_kind: Object.fromEntries(
        Object.entries(errorsByKind).map(([kind, n]) => [
          kind,
          upstreamTries === 0 ? 0 : round(n / upstreamTries, 4),
        ]),
      ),
    },
    cost: {
      total_usd: usd(totalUsd),
      shadow_usd: usd(shadowUsd),
      by_model: Object.fromEntries(modelList.map((m) => [m.model, m.cost_usd])),
    },
    savings: {
      baseline_role: input.baseline.role,
      baseline_model: input.baseline.model,
      baseline_usd: usd(baselineUsd),
      actual_usd: usd(actualUsd),
      saved_usd: usd(saved),
      saved_percent: baselineUsd === 0 ? null : round((saved / baselineUsd) * 100, 2),
      cache_saved_usd: usd(cacheSavedUsd),
      method: savingsMethod,
    },
    cache_hits: cacheHits,
    prompt_cache: {
      input_tokens: promptCache.inputTokens,
      cache_read_tokens: promptCache.readTokens,
      cache_write_tokens: promptCache.writeTokens,
      cached_share:
        promptCache.inputTokens === 0 ? 0 : round(promptCache.readTokens / promptCache.inputTokens, 4),
      saved_usd: usd(promptCache.savedUsd),
      method: promptCacheMethod,
    },
  };
}

export interface DeploymentSummary {
  provider: string;
  model: string;
  circuit: string;
  calls: number;
  ok: number;
  errors: number;
  cached: number;
  prompt_tokens: number;
  completion_tokens: number;
  cache_read_tokens: number;
  cost_usd: number;
}

// The calls per deployment that made them (provider and model), counted as the per-model entries count them.
// `label` folds model ids the per-model view folds into "other"; `circuit` names the deployment's circuit key
// (as in `circuits`), so a row can be read next to its breaker.
export function summarizeDeployments(
  rows: readonly DeploymentUsageRow[],
  label: (model: string) => string,
  circuit: (model: string, provider: string) => string,
): DeploymentSummary[] {
  const byKey = new Map<string, DeploymentSummary>();
  for (const row of rows) {
    const model = label(row.model);
    const key = JSON.stringify([row.provider, model]);
    let summary = byKey.get(key);
    if (!summary) {
      summary = {
        provider: row.provider,
        model,
        circuit: model === otherModels ? otherModels : circuit(model, row.provider),
        calls: 0,
        ok: 0,
        errors: 0,
        cached: 0,
        prompt_tokens: 0,
        completion_tokens: 0,
        cache_read_tokens: 0,
        cost_usd: 0,
      };
      byKey.set(key, summary);
    }
    summary.calls += row.calls;
    summary.cost_usd += row.costUsd;
    if (row.outcome === "cached") {
      summary.cached += row.calls;
      continue;
    }
    summary.prompt_tokens += row.promptTokens;
    summary.completion_tokens += row.completionTokens;
    summary.cache_read_tokens += row.cacheReadTokens;
    if (row.outcome === "ok") summary.ok += row.calls;
    else summary.errors += row.calls;
  }
  return [...byKey.values()]
    .map((d) => ({ ...d, cost_usd: usd(d.cost_usd) }))
    .sort((a, b) => a.provider.localeCompare(b.provider) || a.model.localeCompare(b.model));
}

interface ModelSummary {
  model: string;
  role: string;
  calls: number;
  ok: number;
  errors: number;
  cached: number;
  prompt_tokens: number;
  completion_tokens: number;
  cache_read_tokens: number;
  cost_usd: number;
  latency_ms: { p50: number; p95: number; p99: number } | null;
}

function emptySummary(model: string, role: string): ModelSummary {
  return {
    model,
    role,
    calls: 0,
    ok: 0,
    errors: 0,
    cached: 0,
    prompt_tokens: 0,
    completion_tokens: 0,
    cache_read_tokens: 0,
    cost_usd: 0,
    latency_ms: null,
  };
}

// Nearest-rank percentiles of sorted values.
export function percentiles(sorted: readonly number[]): { p50: number; p95: number; p99: number } | null {
  if (sorted.length === 0) return null;
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
  return { p50: round(at(50), 1), p95: round(at(95), 1), p99: round(at(99), 1) };
}

function usd(value: number): number {
  return round(value, 10);
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

// Keeps configured models and the `limit` most-called other ids by name and folds the rest into "other",
// so model ids made up by clients cannot grow /stats without bound.
export function foldModels(
  calls: readonly ModelUsageRow[],
  latencies: ReadonlyMap<string, readonly number[]>,
  isConfigured: (model: string) => boolean,
  limit: number,
): { calls: ModelUsageRow[]; latencies: Map<string, number[]> } {
  const callsPerModel = new Map<string, number>();
  for (const row of calls) {
    if (!isConfigured(row.model))
      callsPerModel.set(row.model, (callsPerModel.get(row.model) ?? 0) + row.calls);
  }
  const kept = new Set(
    [...callsPerModel.entries()]
      .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
      .slice(0, limit)
      .map(([model]) => model),
  );
  const label = (model: string) => (isConfigured(model) || kept.has(model) ? model : otherModels);
  const folded = calls.map((row) => {
    const model = label(row.model);
    return model === row.model ? row : { ...row, model, role: "passthrough" };
  });
  const foldedLatencies = new Map<string, number[]>();
  for (const [model, values] of latencies) {
    const key = label(model);
    foldedLatencies.set(key, [...(foldedLatencies.get(key) ?? []), ...values]);
  }
  const other = foldedLatencies.get(otherModels);
  other?.sort((a, b) => a - b);
  return { calls: folded, latencies: foldedLatencies };
}
