import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OrchestratorError } from "../../../src/core/errors.ts";
import type { CallSeriesRow } from "../../../src/store/usage-store.ts";
import { seriesBuckets, summarizeSeries } from "../../../src/telemetry/stats-series.ts";

const hour = 3_600_000;
const noon = Date.parse("2026-01-02T12:00:00.000Z");

const callRow = (overrides: Partial<CallSeriesRow>): CallSeriesRow => ({
  bucket: "2026-01-02T11",
  model: "m",
  shadow: false,
  calls: 1,
  costUsd: 0.01,
  baselineUsd: 0.04,
  cacheHits: 0,
  escalations: 0,
  speculativeCalls: 0,
  speculativeUsd: 0,
  ...overrides,
});

describe("series buckets", () => {
  it("runs from the bucket `since` falls in through the one now falls in", () => {
    assert.deepEqual(seriesBuckets("2026-01-02T09:30:00.000Z", noon + 5 * 60_000, "hour"), [
      "2026-01-02T09",
      "2026-01-02T10",
      "2026-01-02T11",
      "2026-01-02T12",
    ]);
    assert.deepEqual(seriesBuckets("2026-01-01T23:59:00.000Z", noon, "day"), ["2026-01-01", "2026-01-02"]);
  });

  it("allows 31 days by the hour and a year by the day, and refuses longer windows naming since", () => {
    assert.equal(seriesBuckets(new Date(noon - 744 * hour).toISOString(), noon, "hour").length, 745);
    assert.equal(seriesBuckets(new Date(noon - 366 * 24 * hour).toISOString(), noon, "day").length, 367);
    for (const [span, bucket] of [
      [744 * hour + 1, "hour"],
      [366 * 24 * hour + 1, "day"],
    ] as const) {
      assert.throws(
        () => seriesBuckets(new Date(noon - span).toISOString(), noon, bucket),
        (error: unknown) =>
          error instanceof OrchestratorError &&
          error.status === 400 &&
          /^since: a series by (hour|day) covers at most/.test(error.message),
      );
    }
  });
});

describe("series summary", () => {
  const summarize = (rows: Parameters<typeof summarizeSeries>[0]["rows"]) =>
    summarizeSeries({
      rows,
      keys: ["2026-01-02T11", "2026-01-02T12"],
      bucket: "hour",
      label: (model) => (model === "made-up" ? "other" : model),
      qualityMinSamples: 30,
    });

  it("sums each bucket as the window's figures are summed, with empty buckets as zeros", () => {
    const series = summarize({
      calls: [
        callRow({}),
        callRow({ model: "made-up", costUsd: 0.02, baselineUsd: 0.02 }),
        callRow({ model: "t", shadow: true, costUsd: 0.5, baselineUsd: 0.5 }),
        callRow({ cacheHits: 2, escalations: 1, speculativeCalls: 3, speculativeUsd: 0.003, costUsd: 0 }),
        // Outside the buckets: left for the next read.
        callRow({ bucket: "2026-01-02T13", costUsd: 7 }),
      ],
      answered: [{ bucket: "2026-01-02T11", requests: 2 }],
      requests: [
        { bucket: "2026-01-02T11", category: "M", routeRule: "category", requests: 2 },
        { bucket: "2026-01-02T11", category: null, routeRule: null, requests: 1 },
      ],
      verdicts: [
        { bucket: "2026-01-02T11", verdict: "better", samples: 1 },
        { bucket: "2026-01-02T11", verdict: "worse", samples: 1 },
      ],
    });
    assert.equal(series.bucket, "hour");
    assert.deepEqual(series.min_samples, { savings: 30, quality: 30 });
    const [first, second] = series.buckets;
    assert.equal(first?.start, "2026-01-02T11:00:00.000Z");
    assert.deepEqual(first?.spend, {
      total_usd: 0.53,
      shadow_usd: 0.5,
      by_model: { m: 0.01, other: 0.02 },
    });
    assert.deepEqual(first?.requests, {
      total: 3,
      by_category: { M: 2, none: 1 },
      by_route_rule: { category: 2 },
    });
    // The shadow call is on neither side of the savings.
    assert.deepEqual(first?.savings, {
      baseline_usd: 0.1,
      actual_usd: 0.03,
      saved_usd: 0.07,
      saved_percent: 70,
      requests: 2,
    });
    assert.equal(first?.quality.judged, 2);
    assert.equal(first?.quality.share, 0.5);
    assert.ok(first?.quality.ci95 && first.quality.ci95.lower < 0.5 && first.quality.ci95.upper > 0.5);
    assert.equal(first?.cache_hits, 2);
    assert.equal(first?.escalations, 1);
    assert.deepEqual(first?.speculation, { wasted_calls: 3, wasted_usd: 0.003 });
    assert.equal(second?.start, "2026-01-02T12:00:00.000Z");
    assert.deepEqual(second?.savings.saved_percent, null);
    assert.equal(second?.savings.requests, 0);
    assert.deepEqual(second?.quality, { judged: 0, as_good_or_better: 0, share: null, ci95: null });
    assert.equal(series.buckets.length, 2);
  });
});
