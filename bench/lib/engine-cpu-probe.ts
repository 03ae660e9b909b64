import { setTimeout as sleep } from "node:timers/promises";
import type { App, AppOptions } from "../../src/app.ts";
import type { AppConfig } from "../../src/config/index.ts";
import type { WorkflowDefinition } from "../../src/workflows/workflow-schema.ts";

// The engine's own CPU, by difference: in one process composed as `npm start` composes it (the compiled
// service, its config from the same environment, nothing switched off) but without its HTTP server,
// blocks of workflows run through the workflow service alternate with blocks of the same number of
// identical upstream calls made straight through the model client (guard, budgets, ledger, provider,
// undici), in the same shape (ten at once, then five one after another). What the workflows cost beyond
// their calls is the engine's: run rules, task records and their transactions, events, the run's context.
//
// argv: the workflow (JSON), its tasks' count, and workflows per block. Prints one JSON line.

const [workflowJson, tasksArg, perBlockArg, blocksArg] = process.argv.slice(2);
const workflow = JSON.parse(workflowJson ?? "{}") as {
  workflow: WorkflowDefinition["stages"];
  variables: Record<string, string>;
};
const tasksPerWorkflow = Number(tasksArg);
const perBlock = Number(perBlockArg);
const blocks = Number(blocksArg);

// Loaded at run time from dist/: the compiled service, as it ships.
const dist = new URL("../../dist/src/", import.meta.url);
const { createApp } = (await import(new URL("app.js", dist).href)) as {
  createApp: (options: AppOptions) => Promise<App>;
};
const { loadConfig } = (await import(new URL("config/index.js", dist).href)) as {
  loadConfig: () => AppConfig;
};
const { runWithContext } = (await import(new URL("core/request-context.js", dist).href)) as {
  runWithContext: <T>(context: { requestId: string; endpoint: string }, work: () => Promise<T>) => Promise<T>;
};

const config = loadConfig();
const app = await createApp({ config });
const definition: WorkflowDefinition = { stages: workflow.workflow, variables: workflow.variables };
// Every block ends after the ledger's batch timer, so the rows of its calls are written inside it.
const settleMs = config.monitoring.writeBatchMs + 100;

async function runWorkflows(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const { id } = await app.workflows.submit(definition, {});
    await app.workflows.waitFor(id);
    const run = await app.store.getRun(id);
    if (run?.status !== "completed") throw new Error(`workflow ${run?.status}`);
  }
}

// The same calls as a workflow's tasks make, stage by stage: a linear stage's at once, an inline one's in turn.
async function runCalls(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const controller = new AbortController();
    const deadline = Date.now() + config.orchestration.defaultTimeoutSeconds * 1000;
    await runWithContext({ requestId: `probe-${i}`, endpoint: "probe" }, async () => {
      for (const stage of definition.stages) {
        const call = (prompt: string) =>
          app.models.call(stage.tasks[0]?.model ?? "medium_ai", {
            messages: [
              { role: "system", content: "You are one specialist worker in a multi-step AI workflow." },
              { role: "user", content: prompt },
            ],
            purpose: "task",
            priority: "medium",
            signal: controller.signal,
            deadline,
          });
        if (stage.type === "linear") await Promise.all(stage.tasks.map((task) => call(task.prompt)));
        else for (const task of stage.tasks) await call(task.prompt);
      }
    });
  }
}

async function cpuOf(work: () => Promise<void>): Promise<number> {
  const before = process.cpuUsage();
  await work();
  await sleep(settleMs);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

// Warm-up, not counted: as many of each as the measured blocks hold, so that both sides are measured with
// their code compiled by the JIT, as a long-running service runs it. (With one of each, the first blocks of
// workflows, which run far more of the service's code than calls do, were measured while it was compiled.)
await runWorkflows(blocks * perBlock);
await runCalls(blocks * perBlock);
let workflowMs = 0;
let callsMs = 0;
// Alternating blocks (and which goes first), so a change of load on the machine touches both alike.
for (let block = 0; block < blocks; block++) {
  const first = block % 2 === 0;
  if (first) workflowMs += await cpuOf(() => runWorkflows(perBlock));
  callsMs += await cpuOf(() => runCalls(perBlock));
  if (!first) workflowMs += await cpuOf(() => runWorkflows(perBlock));
}
const tasks = blocks * perBlock * tasksPerWorkflow;
await app.close(1_000);
process.stdout.write(
  `${JSON.stringify({ workflowCpuMsPerTask: workflowMs / tasks, callCpuMsPerTask: callsMs / tasks })}\n`,
);
