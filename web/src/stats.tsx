import { useEffect, useState } from "preact/hooks";
import { getJson } from "./api.ts";
import { formatUsd } from "./format.ts";
import { answeredRequests, percent, type SeriesView, StatsCharts, tooFew } from "./stats-charts.tsx";
import type { QualityGroupView, StatsView } from "./types.ts";

type StatsWithSeries = StatsView & { readonly series?: SeriesView };

// Each window's charts by hour, or by day past a day: a few dozen bars at most, readable on a phone.
const windows = [
  { since: "1h", bucket: "hour", label: "last hour" },
  { since: "24h", bucket: "hour", label: "last 24 hours" },
  { since: "7d", bucket: "day", label: "last 7 days" },
  { since: "30d", bucket: "day", label: "last 30 days" },
  { since: "all", bucket: "day", label: "all time" },
] as const;

function interval(group: QualityGroupView): string {
  const { ci95 } = group.as_good_or_better;
  return ci95 ? `${Math.round(ci95.lower * 100)}–${percent(ci95.upper)}` : "–";
}

// Spend by model, the savings figure and, next to it, the judged quality of the routed answers, from /stats.
export function Stats() {
  const [stats, setStats] = useState<StatsWithSeries | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [since, setSince] = useState("24h");

  const bucket = windows.find((w) => w.since === since)?.bucket ?? "day";
  const load = () =>
    getJson<StatsWithSeries>(`/stats?since=${since}&bucket=${bucket}`).then(
      (body) => {
        setStats(body);
        setError(undefined);
      },
      (caught: Error) => setError(caught.message),
    );
  useEffect(() => {
    void load();
  }, [since]);

  return (
    <div class="panel stats">
      <h2>
        Spend and savings{" "}
        <select value={since} onChange={(event) => setSince(event.currentTarget.value)} aria-label="window">
          {windows.map((w) => (
            <option key={w.since} value={w.since}>
              {w.label}
            </option>
          ))}
        </select>{" "}
        <button type="button" onClick={() => void load()}>
          refresh
        </button>
      </h2>
      {error && <p class="error">{error}</p>}
      {stats && (
        <>
          <div class="figures">
            <div>
              <strong>{formatUsd(stats.cost.total_usd) || "$0"}</strong>
              <span>spent</span>
            </div>
            <div>
              <SavedFigure stats={stats} />
              <span>saved against {stats.savings.baseline_role}</span>
            </div>
            <div>
              <QualityFigure stats={stats} />
              <span>
                as good as or better than {stats.quality.baseline_role}
                {stats.quality.judged > 0 &&
                  ` (${stats.quality.as_good_or_better.count} of ${stats.quality.judged} judged, 95% CI ${interval(stats.quality)})`}
              </span>
            </div>
            <div>
              <strong>{stats.requests.total}</strong>
              <span>requests</span>
            </div>
            <div>
              <strong>{stats.cache_hits}</strong>
              <span>cache hits</span>
            </div>
          </div>
          {stats.series && (
            <StatsCharts
              series={stats.series}
              baselineRole={stats.savings.baseline_role}
              qualityBaseline={stats.quality.baseline_role}
            />
          )}
          <table>
            <thead>
              <tr>
                <th>model</th>
                <th>role</th>
                <th>calls</th>
                <th>spend</th>
              </tr>
            </thead>
            <tbody>
              {stats.models.map((m) => (
                <tr key={m.model}>
                  <td>{m.model}</td>
                  <td>{m.role}</td>
                  <td>{m.calls}</td>
                  <td>{formatUsd(m.cost_usd) || "$0"}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <table aria-label="quality">
            <thead>
              <tr>
                <th>answered by</th>
                <th>sampled</th>
                <th>judged</th>
                <th>as good or better</th>
                <th>95% CI</th>
              </tr>
            </thead>
            <tbody>
              {[
                ...Object.entries(stats.quality.by_category).map(
                  ([key, group]) => [`category ${key}`, group] as const,
                ),
                ...Object.entries(stats.quality.by_model),
              ].map(([label, group]) => (
                <tr key={label}>
                  <td>{label}</td>
                  <td>{group.sampled}</td>
                  <td>{group.judged}</td>
                  <td>
                    {group.as_good_or_better.share === null ? "–" : percent(group.as_good_or_better.share)}
                  </td>
                  <td>{interval(group)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <details>
            <summary>How the savings are computed</summary>
            <p class="muted">{stats.savings.method}</p>
          </details>
          <details>
            <summary>How quality is measured</summary>
            <p class="muted">
              {stats.quality.sample_rate === 0
                ? "Sampling is off (monitoring.shadow.sampleRate is 0). "
                : `${percent(stats.quality.sample_rate)} of eligible requests are sampled; ${stats.quality.judge_role} judges. `}
              {stats.quality.method}
            </p>
          </details>
        </>
      )}
    </div>
  );
}

// Fewer samples than the series' minimum: say so, not a bare percentage (one request once read "-396.36%").
const minSamples = (stats: StatsWithSeries) => stats.series?.min_samples ?? { savings: 30, quality: 30 };

function SavedFigure({ stats }: { stats: StatsWithSeries }) {
  const n = stats.series ? answeredRequests(stats.series) : stats.requests.total;
  const few = tooFew(n, minSamples(stats).savings, "requests");
  if (few)
    return (
      <strong data-testid="saved-percent" class="too-few" title={savedTitle(stats)}>
        {few}
      </strong>
    );
  return (
    <strong data-testid="saved-percent">
      {stats.savings.saved_percent === null ? "–" : `${stats.savings.saved_percent}%`}
    </strong>
  );
}

function savedTitle(stats: StatsWithSeries): string {
  const { saved_percent, actual_usd, baseline_usd } = stats.savings;
  return saved_percent === null
    ? ""
    : `${saved_percent}% so far: ${formatUsd(actual_usd) || "$0"} spent against ${formatUsd(baseline_usd) || "$0"}`;
}

function QualityFigure({ stats }: { stats: StatsWithSeries }) {
  const { share } = stats.quality.as_good_or_better;
  const few = stats.quality.judged > 0 && tooFew(stats.quality.judged, minSamples(stats).quality, "judged");
  if (few)
    return (
      <strong data-testid="quality-share" class="too-few">
        {few}
      </strong>
    );
  return <strong data-testid="quality-share">{share === null ? "–" : percent(share)}</strong>;
}
