import { BarChart, LineChart, type Series } from "./charts.tsx";
import { formatUsd } from "./format.ts";

// The `series` of /stats?bucket=: the window's figures per hour or UTC day.
export interface SeriesBucketView {
  readonly start: string;
  // by_model: the traffic's calls; shadow_usd: the quality figure's sampling.
  readonly spend: {
    readonly total_usd: number;
    readonly shadow_usd: number;
    readonly by_model: Record<string, number>;
  };
  readonly requests: {
    readonly total: number;
    readonly by_category: Record<string, number>;
    readonly by_route_rule: Record<string, number>;
  };
  // requests: those that made answering calls, the n of the savings figure.
  readonly savings: { readonly baseline_usd: number; readonly actual_usd: number; readonly requests: number };
  readonly quality: {
    readonly judged: number;
    readonly share: number | null;
    readonly ci95: { readonly lower: number; readonly upper: number } | null;
  };
  readonly cache_hits: number;
  readonly escalations: number;
  readonly speculation: { readonly wasted_calls: number };
}

export interface SeriesView {
  readonly bucket: "hour" | "day";
  readonly min_samples: { readonly savings: number; readonly quality: number };
  readonly buckets: readonly SeriesBucketView[];
}

// What a figure from `n` samples can say: below `min`, that there are too few to tell, rather than a bare
// percentage that one request moves by tens of points.
export function tooFew(n: number, min: number, what: "requests" | "judged"): string | undefined {
  return n < min ? `too few ${what} to tell (n = ${n})` : undefined;
}

// Requests that made answering calls over the series: the n of its savings figure.
export function answeredRequests(series: SeriesView): number {
  return series.buckets.reduce((n, b) => n + b.savings.requests, 0);
}

export function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// Buckets are UTC hours or days, so they are labelled in UTC.
function bucketLabel(start: string, bucket: SeriesView["bucket"]): string {
  if (bucket === "hour") return `${start.slice(11, 13)}:00`;
  return `${months[Number(start.slice(5, 7)) - 1]} ${Number(start.slice(8, 10))}`;
}

// The names of a breakdown across all buckets, biggest first, and each one's value per bucket.
function breakdown(
  buckets: readonly SeriesBucketView[],
  of: (bucket: SeriesBucketView) => Record<string, number>,
): Series[] {
  const totals = new Map<string, number>();
  for (const bucket of buckets)
    for (const [name, value] of Object.entries(of(bucket))) totals.set(name, (totals.get(name) ?? 0) + value);
  return [...totals]
    .filter(([, total]) => total > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([name]) => ({ name, values: buckets.map((bucket) => of(bucket)[name] ?? 0) }));
}

function count(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function Figure(props: {
  id: string;
  title: string;
  note?: string | undefined;
  children: preact.ComponentChildren;
}) {
  return (
    <figure data-testid={`chart-${props.id}`}>
      <figcaption>
        {props.title}
        {props.note && <span class="figure-note">{props.note}</span>}
      </figcaption>
      {props.children}
    </figure>
  );
}

function NoData() {
  return <p class="muted">Nothing in this window.</p>;
}

// Spend per model, requests per category and route, savings against the baseline, judged quality with its
// interval, and cache hits and escalations, over the selected window.
export function StatsCharts(props: { series: SeriesView; baselineRole: string; qualityBaseline: string }) {
  const { series } = props;
  const { buckets } = series;
  const labels = buckets.map((b) => bucketLabel(b.start, series.bucket));
  const axisNote = `per ${series.bucket}, UTC`;

  const spend = breakdown(buckets, (b) =>
    b.spend.shadow_usd > 0
      ? { ...b.spend.by_model, "quality sampling": b.spend.shadow_usd }
      : b.spend.by_model,
  );
  // "none" is everything not categorized, the page's own reads included: noise next to the routed traffic.
  const categories = breakdown(buckets, (b) => b.requests.by_category).filter((s) => s.name !== "none");
  const routes = breakdown(buckets, (b) => b.requests.by_route_rule);

  // Running totals: each bucket's savings alone is as noisy as its handful of requests.
  let baseline = 0;
  let actual = 0;
  const cumulative = buckets.map((b) => {
    baseline += b.savings.baseline_usd;
    actual += b.savings.actual_usd;
    return { baseline, actual };
  });
  const requests = answeredRequests(series);
  const savingsNote =
    tooFew(requests, series.min_samples.savings, "requests") ??
    (baseline > 0
      ? `${Math.round(((baseline - actual) / baseline) * 100)}% saved: ${formatUsd(actual) || "$0"} spent where ${props.baselineRole} alone would have cost ${formatUsd(baseline)}`
      : undefined);

  const judged = buckets.reduce((n, b) => n + b.quality.judged, 0);
  const qualityNote =
    tooFew(judged, series.min_samples.quality, "judged") ?? "shaded: the 95% interval of each bucket's share";

  const events: Series[] = [
    { name: "cache hits", values: buckets.map((b) => b.cache_hits) },
    { name: "escalations", values: buckets.map((b) => b.escalations) },
    { name: "refuted speculative calls", values: buckets.map((b) => b.speculation.wasted_calls) },
  ];
  const anyEvents = events.some((s) => s.values.some((v) => v > 0));

  return (
    <section class="charts" aria-label="charts">
      <Figure id="spend" title="Spend per model" note={axisNote}>
        {spend.length === 0 ? (
          <NoData />
        ) : (
          <BarChart
            label="spend per model"
            labels={labels}
            series={spend}
            format={(v) => formatUsd(v) || "$0"}
          />
        )}
      </Figure>
      <Figure id="categories" title="Requests per category" note={`as the router labelled them, ${axisNote}`}>
        {categories.length === 0 ? (
          <NoData />
        ) : (
          <BarChart label="requests per category" labels={labels} series={categories} format={count} />
        )}
      </Figure>
      <Figure id="routes" title="Requests per route rule" note={`what decided each route, ${axisNote}`}>
        {routes.length === 0 ? (
          <NoData />
        ) : (
          <BarChart label="requests per route rule" labels={labels} series={routes} format={count} />
        )}
      </Figure>
      <Figure id="savings" title={`Spend against ${props.baselineRole}, running total`} note={savingsNote}>
        {baseline === 0 && actual === 0 ? (
          <NoData />
        ) : (
          <LineChart
            label={`running spend against ${props.baselineRole}`}
            labels={labels}
            lines={[
              { name: `all on ${props.baselineRole}`, values: cumulative.map((c) => c.baseline) },
              { name: "routed (actual)", values: cumulative.map((c) => c.actual) },
            ]}
            format={(v) => formatUsd(v) || "$0"}
          />
        )}
      </Figure>
      <Figure
        id="quality"
        title={`Judged as good as or better than ${props.qualityBaseline}`}
        note={qualityNote}
      >
        {judged === 0 ? (
          <NoData />
        ) : (
          <LineChart
            label="judged quality share with its 95% interval"
            labels={labels}
            lines={[{ name: "share", values: buckets.map((b) => b.quality.share) }]}
            band={{ name: "95% interval", values: buckets.map((b) => b.quality.ci95) }}
            yMax={1}
            format={percent}
          />
        )}
      </Figure>
      <Figure id="events" title="Cache hits, escalations and refuted speculation" note={axisNote}>
        {anyEvents ? (
          <BarChart
            label="cache hits and escalations"
            labels={labels}
            series={events}
            format={count}
            grouped
          />
        ) : (
          <NoData />
        )}
      </Figure>
    </section>
  );
}
