import { spawn } from "node:child_process";
import { join } from "node:path";
import { cpuMs } from "./lib/probe.ts";
import {
  buildService,
  freePort,
  orchestratorEnv,
  repoRoot,
  startFlags,
  startOrchestrator,
  startUpstream,
} from "./lib/processes.ts";
import { markdownTable, round, writeResult } from "./lib/report.ts";

// Workflow engine: 10 tasks at the same time, then 5 one after another, against an upstream with a fixed
// latency. The ideal makespan is the critical path, 6 × latency; the ratio shows what the engine adds.
const latencyMs = Number(process.env.BENCH_TASK_LATENCY_MS ?? 200);
const runs = Number(process.env.BENCH_WORKFLOW_RUNS ?? 10);
// The engine-only CPU: blocks of this many workflows, alternating with blocks of their calls alone.
const probeBlocks = Number(process.env.BENCH_ENGINE_PROBE_BLOCKS ?? 6);
const probeWorkflowsPerBlock = Number(process.env.BENCH_ENGINE_PROBE_WORKFLOWS ?? 10);
const tasksPerWorkflow = 15;
const serviceConfig = {
  rateLimits: { clients: { requestsPerMinute: 0 } },
  cache: { enabled: false },
};

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

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

// The reference for the makespan: the same calls in the same shape (ten at once, then five one after
// another) made straight to the same upstream from this process. It holds what no engine can remove: the
// upstream's real time per call (its timer fires a little after the latency it was given) and the trips
// between processes.
async function timeDirectChain(upstreamUrl: string): Promise<number> {
  const body = JSON.stringify({ model: "bench/model", messages: [{ role: "user", content: "Part 0" }] });
  const call = async () => {
    const response = await fetch(`${upstreamUrl}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    await response.arrayBuffer();
  };
  const chains: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const started = performance.now();
    for (const stage of workflow.workflow) {
      if (stage.type === "linear") await Promise.all(stage.tasks.map(call));
      else for (const _ of stage.tasks) await call();
    }
    if (i > 0) chains.push(performance.now() - started);
  }
  return median(chains);
}

async function timeWorkflows(
  upstreamLatencyMs: number,
): Promise<{ makespans: number[]; cpuMsPerTask: number; directChainMs: number }> {
  const upstream = await startUpstream(upstreamLatencyMs);
  const orchestrator = await startOrchestrator(upstream.url, serviceConfig);
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
    const cpuMsPerTask = (cpuMs(orchestrator.pid) - cpuBefore) / (runs * tasksPerWorkflow);
    return { makespans, cpuMsPerTask, directChainMs: await timeDirectChain(upstream.url) };
  } finally {
    await Promise.all([orchestrator.stop(), upstream.stop()]);
  }
}

// See bench/lib/engine-cpu-probe.ts: the service without HTTP, workflows against their calls made alone.
async function engineCpu(): Promise<{ workflowCpuMsPerTask: number; callCpuMsPerTask: number }> {
  const upstream = await startUpstream(0);
  try {
    buildService();
    const child = spawn(
      process.execPath,
      [
        // The service's own runtime flags, as `npm start` gives them.
        ...startFlags(),
        "--experimental-strip-types",
        "--disable-warning=ExperimentalWarning",
        join(repoRoot, "bench/lib/engine-cpu-probe.ts"),
        JSON.stringify(workflow),
        String(tasksPerWorkflow),
        String(probeWorkflowsPerBlock),
        String(probeBlocks),
      ],
      {
        cwd: repoRoot,
        env: orchestratorEnv(upstream.url, serviceConfig, await freePort()),
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    if (code !== 0) throw new Error(`the engine CPU probe exited with code ${code}`);
    return JSON.parse(output.trim().split("\n").pop() ?? "{}");
  } finally {
    await upstream.stop();
  }
}

export async function workflowEngine(): Promise<string> {
  const criticalPathMs = 6 * latencyMs;
  const timed = await timeWorkflows(latencyMs);
  const withLatency = timed.makespans;
  const instantRun = await timeWorkflows(0);
  const instant = instantRun.makespans;
  const probe = await engineCpu();
  const makespan = median(withLatency);
  const result = {
    latencyMs,
    runs,
    criticalPathMs,
    makespanMedianMs: makespan,
    makespanBestMs: Math.min(...withLatency),
    ratio: round(makespan / criticalPathMs, 3),
    overheadPerCriticalStepMs: round((makespan - criticalPathMs) / 6, 1),
    directChainMs: round(timed.directChainMs, 1),
    ratioToDirectChain: round(makespan / timed.directChainMs, 3),
    engineAddedPerCriticalStepMs: round((makespan - timed.directChainMs) / 6, 1),
    instantUpstreamMakespanMs: median(instant),
    engineMsPerTask: round(median(instant) / tasksPerWorkflow, 2),
    cpuMsPerTask: round(instantRun.cpuMsPerTask, 3),
    probeWorkflowCpuMsPerTask: round(probe.workflowCpuMsPerTask, 3),
    probeCallCpuMsPerTask: round(probe.callCpuMsPerTask, 3),
    engineCpuMsPerTask: round(probe.workflowCpuMsPerTask - probe.callCpuMsPerTask, 3),
  };
  const table = markdownTable(
    ["figure", "value"],
    [
      ["upstream latency per task", `${latencyMs} ms`],
      ["critical path (6 steps)", `${criticalPathMs} ms`],
      ["makespan, median of runs", `${makespan} ms`],
      ["makespan / critical path (goal <= 1.02)", result.ratio],
      ["added per critical-path step", `${result.overheadPerCriticalStepMs} ms`],
      ["reference: the same calls made straight to the upstream, median", `${result.directChainMs} ms`],
      ["makespan / reference (what the engine adds, upstream timing aside)", result.ratioToDirectChain],
      ["added per critical-path step over the reference", `${result.engineAddedPerCriticalStepMs} ms`],
      ["15 tasks with an instant upstream", `${result.instantUpstreamMakespanMs} ms`],
      ["engine time per task (instant upstream)", `${result.engineMsPerTask} ms`],
      [
        "whole process CPU per task, instant upstream (HTTP, calls, ledger, store, engine)",
        `${result.cpuMsPerTask} ms`,
      ],
      ["in-process: CPU per task of workflows (no HTTP)", `${result.probeWorkflowCpuMsPerTask} ms`],
      ["in-process: CPU per call of the same calls alone", `${result.probeCallCpuMsPerTask} ms`],
      ["engine CPU per task: the difference (goal <= 0.3 ms)", `${result.engineCpuMsPerTask} ms`],
    ],
  );
  writeResult("workflow-engine", result, table);
  const method =
    "Engine CPU: in one process of the compiled service without its HTTP server, " +
    `${probeBlocks} alternating blocks of ${probeWorkflowsPerBlock} workflows and of the same calls made ` +
    "straight through the model client (guard, budgets, ledger, provider), each block's process CPU " +
    "measured; the engine's figure is the workflows' CPU per task minus the calls' CPU per call.";
  return `### Workflow engine (10 parallel tasks, then 5 sequential; ${runs} runs)\n\n${table}\n\n${method}`;
}
