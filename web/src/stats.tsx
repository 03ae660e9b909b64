import { useEffect, useState } from "preact/hooks";
import { getJson } from "./api.ts";
import { formatUsd } from "./format.ts";
import type { QualityGroupView, StatsView } from "./types.ts";

// "75%", and "30–95%" for its interval: whole percents are as precise as a sampled figure deserves.
function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function interval(group: QualityGroupView): string {
  const { ci95 } = group.as_good_or_better;
  return ci95 ? `${Math.round(ci95.lower * 100)}–${percent(ci95.upper)}` : "–";
}

// Spend by model, the savings figure and, next to it, the judged quality of the routed answers, from /stats.
export function Stats() {
  const [stats, setStats] = useState<StatsView | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [since, setSince] = useState("24h");

  const load = () =>
    getJson<StatsView>(`/stats?since=${since}`).then(
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
          <option value="1h">last hour</option>
          <option value="24h">last 24 hours</option>
          <option value="7d">last 7 days</option>
          <option value="all">all time</option>
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
              <strong data-testid="saved-percent">
                {stats.savings.saved_percent === null ? "–" : `${stats.savings.saved_percent}%`}
              </strong>
              <span>saved against {stats.savings.baseline_role}</span>
            </div>
            <div>
              <strong data-testid="quality-share">
                {stats.quality.as_good_or_better.share === null
                  ? "–"
                  : percent(stats.quality.as_good_or_better.share)}
              </strong>
              <span>
                as good as or better than {stats.quality.baseline_role}
                {stats.quality.judged > 0 &&
                  ` (95% CI ${interval(stats.quality)}, ${stats.quality.judged} judged)`}
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
