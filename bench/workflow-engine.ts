import { cpuMs } from "./lib/probe.ts";
import { startOrchestrator, startUpstream } from "./lib/processes.ts";
import { markdownTable, round, writeResult } from "./lib/report.ts";

// Workflow engine: 10 tasks at the same time, then 5 one after another, against an upstream with a fixed
// latency. The ideal makespan is the critical path, 6 × latency; the ratio shows what the engine adds.
const latencyMs = Number(process.env.BENCH_TASK_LATENCY_MS ?? 200);
const runs = Number(process.env.BENCH_WORKFLOW_RUNS ?? 10);

const workflow = {
  workflow: [
    {
      type: "linear",
      tasks: Array.from({ length: 10 }, (_, i) => ({
        model: "medium_ai",
        prompt: `Part ${i} of {topic}`,
        output_variable: `part${i}`,
      })),
    },
    {
      type: "inline",
      tasks: Array.from({ length: 5 }, (_, i) => ({
        model: "medium_ai",
        prompt: i === 0 ? "Combine {part0} and {part9}" : `Improve {step${i - 1}}`,
        output_variable: `step${i}`,
      })),
    },
  ],
  variables: { topic: "solar power" },
};

async function timeWorkflows(
  upstreamLatencyMs: number,
): Promise<{ makespans: number[]; cpuMsPerTask: number }> {
  const upstream = await startUpstream(upstreamLatencyMs);
  const orchestrator = await startOrchestrator(upstream.url, {
    rateLimits: { clients: { requestsPerMinute: 0 } },
    cache: { enabled: false },
  });
  try {
    const makespans: number[] = [];
    let cpuBefore = 0;
    for (let i = 0; i < runs + 1; i++) {
      if (i === 1) cpuBefore = cpuMs(orchestrator.pid);
      const response = await fetch(`${orchestrator.url}/workflow`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(workflow),
      });
      const record = (await response.json()) as { status: string; created_at: string; finished_at: string };
      if (record.status !== "completed") throw new Error(`workflow ${record.status}`);
      // The first run warms up the process and is not counted.
      if (i > 0) makespans.push(Date.parse(record.finished_at) - Date.parse(record.created_at));
    }
    // The whole process's CPU (HTTP, ledger, store and engine): an upper bound on the engine's own.
    const cpuMsPerTask = (cpuMs(orchestrator.pid) - cpuBefore) / (runs * 15);
    return { makespans, cpuMsPerTask };
  } finally {
    await Promise.all([orchestrator.stop(), upstream.stop()]);
  }
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

export async function workflowEngine(): Promise<string> {
  const criticalPathMs = 6 * latencyMs;
  const timed = await timeWorkflows(latencyMs);
  const withLatency = timed.makespans;
  const instantRun = await timeWorkflows(0);
  const instant = instantRun.makespans;
  const makespan = median(withLatency);
  const result = {
    latencyMs,
    runs,
    criticalPathMs,
    makespanMedianMs: makespan,
    makespanBestMs: Math.min(...withLatency),
    ratio: round(makespan / criticalPathMs, 3),
    overheadPerCriticalStepMs: round((makespan - criticalPathMs) / 6, 1),
    instantUpstreamMakespanMs: median(instant),
    engineMsPerTask: round(median(instant) / 15, 2),
    cpuMsPerTask: round(instantRun.cpuMsPerTask, 3),
  };
  const table = markdownTable(
    ["figure", "value"],
    [
      ["upstream latency per task", `${latencyMs} ms`],
      ["critical path (6 steps)", `${criticalPathMs} ms`],
      ["makespan, median of runs", `${makespan} ms`],
      ["makespan / critical path (goal <= 1.02)", result.ratio],
      ["added per critical-path step", `${result.overheadPerCriticalStepMs} ms`],
      ["15 tasks with an instant upstream", `${result.instantUpstreamMakespanMs} ms`],
      ["engine time per task (instant upstream)", `${result.engineMsPerTask} ms`],
      ["service CPU per task, instant upstream (goal <= 0.3 ms)", `${result.cpuMsPerTask} ms`],
    ],
  );
  writeResult("workflow-engine", result, table);
  return `### Workflow engine (10 parallel tasks, then 5 sequential; ${runs} runs)\n\n${table}`;
}
