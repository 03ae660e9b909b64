import { useEffect, useState } from "preact/hooks";
import { getJson } from "./api.ts";
import { formatUsd } from "./format.ts";

// The part of GET /requests/{id} the panel shows.
interface RequestRecord {
  readonly routing: {
    readonly rule: string | null;
    readonly category: string | null;
    readonly trace: ReadonlyArray<{
      readonly step: string;
      readonly detail: string;
      readonly ms?: number;
    }> | null;
  };
  readonly calls: ReadonlyArray<{
    readonly purpose: string;
    readonly model: string;
    readonly outcome: string;
    readonly prompt_tokens: number;
    readonly completion_tokens: number;
    readonly cost_usd: number;
    readonly latency_ms: number;
    readonly speculative: boolean;
    readonly escalation: string | null;
  }>;
  readonly totals: { readonly cost_usd: number };
  readonly workflow: { readonly id: string; readonly status: string } | null;
}

// One answer explained: a "details" button under the answer opens the route it took and every upstream call
// it made, read from the service's record of the request.
export function RequestDetails(props: { requestId: string }) {
  const [open, setOpen] = useState(false);
  const [record, setRecord] = useState<RequestRecord | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    if (!open || record) return;
    getJson<RequestRecord>(`/requests/${encodeURIComponent(props.requestId)}`).then(setRecord, (e: Error) =>
      setError(e.message),
    );
  }, [open, record, props.requestId]);

  return (
    <>
      <button
        type="button"
        class="details-toggle"
        aria-expanded={open}
        title={`request ${props.requestId}`}
        onClick={() => setOpen(!open)}
      >
        details
      </button>
      {open && (
        <section class="request-details" data-testid="request-details">
          {error && <p class="error">{error}</p>}
          {!record && !error && <p class="muted">loading…</p>}
          {record && <RecordView record={record} />}
        </section>
      )}
    </>
  );
}

function RecordView({ record }: { record: RequestRecord }) {
  const { routing } = record;
  return (
    <>
      <p>
        route: <strong>{routing.rule ?? "—"}</strong>
        {routing.category && <> · category {routing.category}</>}
        {record.workflow && (
          <>
            {" "}
            · workflow <a href={`/workflow/${record.workflow.id}`}>{record.workflow.status}</a>
          </>
        )}
      </p>
      {routing.trace && (
        <ol class="trace">
          {routing.trace.map((s, i) => (
            <li key={i}>
              <span class="muted">{s.step}</span> {s.detail}
              {s.ms !== undefined && <span class="muted"> ({s.ms} ms)</span>}
            </li>
          ))}
        </ol>
      )}
      <table class="calls">
        <thead>
          <tr>
            <th>call</th>
            <th>model</th>
            <th>outcome</th>
            <th>tokens</th>
            <th>cost</th>
            <th>ms</th>
          </tr>
        </thead>
        <tbody>
          {record.calls.map((c, i) => (
            <tr key={i} data-testid="request-call">
              <td>
                {c.purpose}
                {c.escalation && <span class="muted"> (escalated: {c.escalation})</span>}
              </td>
              <td class="model">{c.model}</td>
              <td>{c.outcome}</td>
              <td>
                {c.prompt_tokens} → {c.completion_tokens}
              </td>
              <td>{formatUsd(c.cost_usd) || "$0"}</td>
              <td>{Math.round(c.latency_ms)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted">total {formatUsd(record.totals.cost_usd) || "$0"}</p>
    </>
  );
}
