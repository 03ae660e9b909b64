import { useEffect, useState } from "preact/hooks";
import { getJson } from "./api.ts";
import { formatUsd } from "./format.ts";
import type { StatsView } from "./types.ts";

// Spend by model and the savings figure, from /stats.
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
          <details>
            <summary>How the savings are computed</summary>
            <p class="muted">{stats.savings.method}</p>
          </details>
        </>
      )}
    </div>
  );
}
