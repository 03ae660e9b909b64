import { useEffect, useState } from "preact/hooks";
import { getJson, streamEvents } from "./api.ts";
import { formatSeconds, formatUsd } from "./format.ts";
import type { TaskView, WorkflowRecord } from "./types.ts";

const statusLabel: Record<TaskView["status"], string> = {
  waiting: "waiting",
  running: "running",
  completed: "done",
  failed: "failed",
  cancelled: "cancelled",
};

// A workflow as it runs: its stages and tasks, each with model, status, time and cost, updated from the
// workflow's event stream. Calls `onDone` once with the final record.
export function WorkflowProgress(props: { workflowId: string; onDone?: (record: WorkflowRecord) => void }) {
  const { workflowId, onDone } = props;
  const [record, setRecord] = useState<WorkflowRecord | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [now, setNow] = useState(Date.now());

  useEffect(() => {
    const stop = new AbortController();
    let finished = false;
    const refresh = async () => {
      const next = await getJson<WorkflowRecord>(`/workflow/${workflowId}`);
      if (!stop.signal.aborted) setRecord(next);
      return next;
    };
    (async () => {
      try {
        await refresh();
        for await (const event of streamEvents(`/workflow/${workflowId}/events`, { signal: stop.signal })) {
          const latest = await refresh();
          if (event.event === "workflow_finished" && !finished) {
            finished = true;
            onDone?.(latest);
          }
        }
        if (!finished) {
          finished = true;
          onDone?.(await refresh());
        }
      } catch (caught) {
        if (!stop.signal.aborted) setError((caught as Error).message);
      }
    })();
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => {
      stop.abort();
      clearInterval(timer);
    };
  }, [workflowId]);

  if (error) return <p class="error">Cannot follow the workflow: {error}</p>;
  if (!record) return <p class="muted">Loading the workflow…</p>;
  const stages = groupByStage(record.tasks);
  return (
    <section class="workflow" aria-label="workflow progress" data-status={record.status}>
      <header>
        <strong>Workflow</strong> <span class={`pill ${record.status}`}>{record.status}</span>
        <span class="muted"> {formatUsd(record.usage.cost_usd)}</span>
      </header>
      {stages.length === 0 && <p class="muted">Planning the work…</p>}
      {stages.map((tasks, stage) => (
        <div class="stage" key={stage}>
          <div class="stage-title">
            Stage {stage + 1} · {tasks[0]?.stage_type === "linear" ? "in parallel" : "one after another"}
          </div>
          <ul>
            {tasks.map((task) => (
              <li class="task" key={`${task.stage}.${task.index}`} data-status={task.status}>
                <span class="task-name">{task.output_variable}</span>
                <span class="task-model">{task.model ?? task.role}</span>
                <span class={`pill ${task.status}`}>{statusLabel[task.status]}</span>
                <span class="task-time">{formatSeconds(task.started_at, task.finished_at, now)}</span>
                <span class="task-cost">{formatUsd(task.usage?.cost_usd)}</span>
                {task.error && <span class="task-error">{task.error.message}</span>}
              </li>
            ))}
          </ul>
        </div>
      ))}
      {record.error && <p class="error">{record.error.message}</p>}
    </section>
  );
}

function groupByStage(tasks: readonly TaskView[]): TaskView[][] {
  const stages: TaskView[][] = [];
  for (const task of tasks) {
    const stage = stages[task.stage] ?? [];
    stage.push(task);
    stages[task.stage] = stage;
  }
  return stages;
}

// What a workflow produced: text as markdown, generated images and videos inline.
export function WorkflowOutputs(props: { record: WorkflowRecord; render: (text: string) => string }) {
  const { record, render } = props;
  const roleOf = new Map(record.tasks.map((t) => [t.output_variable, t.role]));
  return (
    <div class="outputs">
      {Object.entries(record.outputs).map(([name, value]) => {
        const role = roleOf.get(name) ?? "";
        const isArtifact = value.startsWith("/artifacts/");
        return (
          <details key={name} open={isArtifact}>
            <summary>{name}</summary>
            {isArtifact && role.startsWith("video") ? (
              // biome-ignore lint/a11y/useMediaCaption: generated videos come without a caption track
              <video src={value} controls preload="metadata" aria-label={name} />
            ) : isArtifact ? (
              <img src={value} alt={name} loading="lazy" />
            ) : (
              <div class="markdown" dangerouslySetInnerHTML={{ __html: render(value) }} />
            )}
          </details>
        );
      })}
    </div>
  );
}
