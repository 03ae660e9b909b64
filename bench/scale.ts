import { eventLoopDelayMs, rssMiB } from "./lib/probe.ts";
import { startOrchestrator, startUpstream } from "./lib/processes.ts";
import { markdownTable, round, writeResult } from "./lib/report.ts";

// Scale: memory and event-loop delay of one orchestrator process with 1000 workflows in flight (the
// spec's maxConcurrentWorkflows) and with 5000 chat requests in flight, against a slow upstream.
const upstreamLatencyMs = Number(process.env.BENCH_SCALE_LATENCY_MS ?? 15000);
const workflowCount = 1000;
const chatCount = Number(process.env.BENCH_SCALE_CHATS ?? 5000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Ten tasks at once per workflow: 10,000 upstream calls waiting at the peak.
const tenTaskWorkflow = {
  async: true,
  workflow: [
    {
      type: "linear",
      tasks: Array.from({ length: 10 }, (_, i) => ({
        model: "medium_ai",
        prompt: `Part ${i} of {topic}`,
        output_variable: `part${i}`,
      })),
    },
  ],
  variables: { topic: "tides" },
};

export async function scale(): Promise<string> {
  const upstream = await startUpstream(upstreamLatencyMs);
  const orchestrator = await startOrchestrator(upstream.url, {
    rateLimits: { clients: { requestsPerMinute: 0 } },
    cache: { enabled: false },
    // Let every call reach the upstream at once: the point is to hold all of them in flight.
    queuing: { maxConcurrentCallsPerModel: 20_000 },
  });
  const post = (path: string, body: unknown) =>
    fetch(`${orchestrator.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  try {
    const idleRss = rssMiB(orchestrator.pid);
    await eventLoopDelayMs(orchestrator.url);

    // 1000 workflows in flight.
    const accepted = await Promise.all(
      Array.from({ length: workflowCount }, () => post("/workflow", tenTaskWorkflow)),
    );
    const acceptedCount = accepted.filter((r) => r.status === 202).length;
    const refused = await post("/workflow", tenTaskWorkflow);
    await sleep(1000);
    const stats = (await (await fetch(`${orchestrator.url}/stats`)).json()) as {
      workflows: { running: number };
    };
    const workflowsRss = rssMiB(orchestrator.pid);
    const workflowsLoop = await eventLoopDelayMs(orchestrator.url);
    while (
      ((await (await fetch(`${orchestrator.url}/stats`)).json()) as typeof stats).workflows.running > 0
    ) {
      await sleep(250);
    }

    // 5000 chat requests in flight (categorizer, then the answer).
    await eventLoopDelayMs(orchestrator.url);
    const started = Date.now();
    const chats = Array.from({ length: chatCount }, () =>
      post("/chat", { message: "What are the benefits of renewable energy?" }).then(
        async (r) => {
          await r.arrayBuffer();
          return r.status;
        },
        () => 0,
      ),
    );
    // Measured once every request has arrived and while all of them wait for the upstream.
    await sleep(upstreamLatencyMs / 2);
    const chatRss = rssMiB(orchestrator.pid);
    const chatLoop = await eventLoopDelayMs(orchestrator.url);
    const statuses = await Promise.all(chats);
    const chatSeconds = (Date.now() - started) / 1000;
    const ok = statuses.filter((s) => s === 200).length;

    const result = {
      upstreamLatencyMs,
      idleRssMiB: idleRss,
      workflows: {
        accepted: acceptedCount,
        runningAtPeak: stats.workflows.running,
        nextOneStatus: refused.status,
        rssMiB: workflowsRss,
        eventLoopDelayMs: workflowsLoop,
      },
      chats: {
        sent: chatCount,
        answered: ok,
        seconds: round(chatSeconds, 1),
        rssMiB: chatRss,
        eventLoopDelayMs: chatLoop,
      },
    };
    const table = markdownTable(
      ["load", "in flight", "RSS MiB", "event-loop delay p50 / p99 / max ms", "outcome"],
      [
        ["idle", 0, idleRss, "-", "-"],
        [
          `${workflowCount} workflows (10 tasks each)`,
          stats.workflows.running,
          workflowsRss,
          `${workflowsLoop.p50} / ${workflowsLoop.p99} / ${workflowsLoop.max}`,
          `${acceptedCount} accepted; the next one: HTTP ${refused.status}`,
        ],
        [
          `${chatCount} chat requests`,
          chatCount,
          chatRss,
          `${chatLoop.p50} / ${chatLoop.p99} / ${chatLoop.max}`,
          `${ok} answered in ${round(chatSeconds, 1)} s`,
        ],
      ],
    );
    writeResult("scale", result, table);
    return `### Scale (upstream latency ${upstreamLatencyMs} ms)\n\n${table}`;
  } finally {
    await Promise.all([orchestrator.stop(), upstream.stop()]);
  }
}
