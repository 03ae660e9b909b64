import { invalidRequest } from "../core/errors.ts";
import { wilsonInterval } from "../core/wilson.ts";
import type { SeriesBucket, SeriesRows } from "../store/usage-store.ts";

const bucketMs: Record<SeriesBucket, number> = { hour: 3_600_000, day: 86_400_000 };

// At most a month of hours or a year of days: enough for any chart, and a bound on the response.
export const maxBuckets: Record<SeriesBucket, number> = { hour: 24 * 31, day: 366 };

// Below this many requests a window's savings figure is one request's mix (an H workflow, or the categorizer's
// fixed cost next to a one-line answer) rather than the routing's effect: a single request has shown "-396%".
// 30 is the same count routing.quality.minSamples asks of the quality figure by default.
export const savingsMinRequests = 30;

// The buckets of a window: the start of the one `since` falls in, through the one `until` falls in, each
// named by the first characters of its ISO start (what the store groups `at` by). Refuses a window longer
// than maxBuckets of its bucket.
export function seriesBuckets(since: string, until: number, bucket: SeriesBucket): string[] {
  const size = bucketMs[bucket];
  const from = Date.parse(since);
  const span = until - from;
  if (span > maxBuckets[bucket] * size) {
    const limit =
      bucket === "hour" ? `${maxBuckets.hour} hours (31 days)` : `${maxBuckets.day} days (a year)`;
    throw invalidRequest(
      "since",
      `a series by ${bucket} covers at most ${limit}; this window is ${Math.ceil(span / size)} ${bucket}s long: use a later since${bucket === "hour" ? " or bucket=day" : ""}`,
    );
  }
  const keys: string[] = [];
  for (let start = Math.floor(from / size) * size; start <= until; start += size) {
    keys.push(bucketKey(new Date(start).toISOString(), bucket));
  }
  return keys;
}

function bucketKey(iso: string, bucket: SeriesBucket): string {
  return iso.slice(0, bucket === "hour" ? 13 : 10);
}

function bucketStart(key: string, bucket: SeriesBucket): string {
  return bucket === "hour" ? `${key}:00:00.000Z` : `${key}T00:00:00.000Z`;
}

interface Point {
  spendUsd: number;
  shadowUsd: number;
  byModel: Record<string, number>;
  requests: number;
  answered: number;
  byCategory: Record<string, number>;
  byRouteRule: Record<string, number>;
  baselineUsd: number;
  actualUsd: number;
  judged: number;
  asGood: number;
  cacheHits: number;
  escalations: number;
  speculativeCalls: number;
  speculativeUsd: number;
}

// The `series` part of /stats: per bucket, spend per model, requests per category and route rule, the savings
// against the baseline (computed as the window's figure is: see savingsMethod), the judged quality share with
// its 95% Wilson interval, cache hits, escalations and refuted speculation. `label` folds model ids as the
// window's figures do, so clients' made-up ids cannot grow the series.
export function summarizeSeries(input: {
  readonly rows: SeriesRows;
  readonly keys: readonly string[];
  readonly bucket: SeriesBucket;
  readonly label: (model: string) => string;
  readonly qualityMinSamples: number;
}) {
  const points = new Map<string, Point>(input.keys.map((key) => [key, emptyPoint()]));
  // A row outside the buckets (written between the count and the query) has nowhere to go: it waits for the
  // next read rather than stretching the series.
  for (const row of input.rows.calls) {
    const point = points.get(row.bucket);
    if (!point) continue;
    const model = input.label(row.model);
    point.spendUsd += row.costUsd;
    // Shadow calls apart: what sampling the quality figure costs is not any model's share of the traffic.
    if (row.shadow) point.shadowUsd += row.costUsd;
    else {
      point.byModel[model] = (point.byModel[model] ?? 0) + row.costUsd;
      point.actualUsd += row.costUsd;
      point.baselineUsd += row.baselineUsd;
    }
    point.cacheHits += row.cacheHits;
    point.escalations += row.escalations;
    point.speculativeCalls += row.speculativeCalls;
    point.speculativeUsd += row.speculativeUsd;
  }
  for (const row of input.rows.answered) {
    const point = points.get(row.bucket);
    if (point) point.answered += row.requests;
  }
  for (const row of input.rows.requests) {
    const point = points.get(row.bucket);
    if (!point) continue;
    point.requests += row.requests;
    const category = row.category ?? "none";
    point.byCategory[category] = (point.byCategory[category] ?? 0) + row.requests;
    // Only /chat's router names a rule: the page's own reads and direct /v1 calls are not routed.
    if (row.routeRule !== null)
      point.byRouteRule[row.routeRule] = (point.byRouteRule[row.routeRule] ?? 0) + row.requests;
  }
  for (const row of input.rows.verdicts) {
    const point = points.get(row.bucket);
    if (!point) continue;
    point.judged += row.samples;
    if (row.verdict !== "worse") point.asGood += row.samples;
  }
  return {
    bucket: input.bucket,
    // Fewer answered requests (savings.requests) or judged samples (quality.judged) than this in a bucket or
    // a window: too few to tell.
    min_samples: { savings: savingsMinRequests, quality: input.qualityMinSamples },
    buckets: [...points].map(([key, p]) => {
      const interval = wilsonInterval(p.asGood, p.judged);
      const saved = p.baselineUsd - p.actualUsd;
      return {
        start: bucketStart(key, input.bucket),
        spend: {
          total_usd: usd(p.spendUsd),
          shadow_usd: usd(p.shadowUsd),
          by_model: mapValues(p.byModel, usd),
        },
        requests: { total: p.requests, by_category: p.byCategory, by_route_rule: p.byRouteRule },
        savings: {
          baseline_usd: usd(p.baselineUsd),
          actual_usd: usd(p.actualUsd),
          saved_usd: usd(saved),
          saved_percent: p.baselineUsd === 0 ? null : round((saved / p.baselineUsd) * 100, 2),
          // Requests that made answering calls: the n of this figure.
          requests: p.answered,
        },
        quality: {
          judged: p.judged,
          as_good_or_better: p.asGood,
          share: interval ? round(interval.share, 4) : null,
          ci95: interval ? { lower: round(interval.lower, 4), upper: round(interval.upper, 4) } : null,
        },
        cache_hits: p.cacheHits,
        escalations: p.escalations,
        speculation: { wasted_calls: p.speculativeCalls, wasted_usd: usd(p.speculativeUsd) },
      };
    }),
  };
}

function emptyPoint(): Point {
  return {
    spendUsd: 0,
    shadowUsd: 0,
    byModel: {},
    requests: 0,
    answered: 0,
    byCategory: {},
    byRouteRule: {},
    baselineUsd: 0,
    actualUsd: 0,
    judged: 0,
    asGood: 0,
    cacheHits: 0,
    escalations: 0,
    speculativeCalls: 0,
    speculativeUsd: 0,
  };
}

function mapValues(record: Record<string, number>, f: (value: number) => number): Record<string, number> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, f(value)]));
}

function usd(value: number): number {
  return round(value, 10);
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
