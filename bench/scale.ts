import { eventLoopDelayFrom, eventLoopDelayMs, rssMiB } from "./lib/probe.ts";
import { type Running, startBareServer, startOrchestrator, startUpstream } from "./lib/processes.ts";
import { markdownTable, round, writeResult } from "./lib/report.ts";

// Scale: memory and event-loop delay of one orchestrator process with 1000 workflows of ten tasks running
// (the spec's maxConcurrentWorkflows) and with 5000 chat requests, against a slow upstream.
//
// Measured with the limits exactly as shipped: at most queuing.maxConcurrentCallsPerModel (1024) upstream
// calls per model in flight, so about 1000 of the 10,000 task calls are in flight and the other 9000 tasks
// wait for a slot. A second, clearly labelled figure lifts that limit to 20,000 so that every call is in
// flight at once: the memory of 10,000 open upstream calls, not a shipped configuration. (Until this
// benchmark was changed, that variant was the only figure.)
const upstreamLatencyMs = Number(process.env.BENCH_SCALE_LATENCY_MS ?? 15000);
const workflowCount = 1000;
const chatCount = Number(process.env.BENCH_SCALE_CHATS ?? 5000);
const allInFlightLimit = 20_000;
// How long the running phase lasts beyond one upstream latency (a first wave of calls answered, the next started).
const runningExtraMs = 5000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Ten tasks at once per workflow: 10,000 upstream calls at the peak.
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

// The shipped configuration but for the client rate limit and the response cache (see README).
const shipped = { rateLimits: { clients: { requestsPerMinute: 0 } }, cache: { enabled: false } };

const post = (base: string, path: string, body: unknown) =>
  fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

// From one scrape of the service's own /metrics: the event-loop delay since the previous scrape, and the
// upstream calls in flight and waiting for a slot.
async function scrape(base: string) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const sum = (pattern: RegExp) =>
    [...text.matchAll(pattern)].reduce((total, match) => total + Number(match[1] ?? 0), 0);
  return {
    eventLoopDelayMs: eventLoopDelayFrom(text),
    upstreamCalls: {
      inFlight: sum(/^orchestrator_upstream_calls_running (\S+)$/gm),
      waiting: sum(/^orchestrator_upstream_queue_waiting\{[^}]*\} (\S+)$/gm),
    },
  };
}

async function withOrchestrator<T>(
  upstreamUrl: string,
  config: Record<string, unknown>,
  measure: (orchestrator: Running) => Promise<T>,
): Promise<T> {
  const orchestrator = await startOrchestrator(upstreamUrl, config);
  try {
    return await measure(orchestrator);
  } finally {
    await orchestrator.stop();
  }
}

// 1000 workflows submitted at once; measured a second after the last was accepted, while their calls
// are in flight or waiting (event-loop delay covers the burst of submissions and that second), then again
// over the running phase that follows (event-loop delay since that first scrape).
async function workflowLoad({ url, pid }: Running) {
  const idleRssMiB = rssMiB(pid);
  await eventLoopDelayMs(url);
  const accepted = await Promise.all(
    Array.from({ length: workflowCount }, () => post(url, "/workflow", tenTaskWorkflow)),
  );
  const acceptedCount = accepted.filter((r) => r.status === 202).length;
  const refused = await post(url, "/workflow", tenTaskWorkflow);
  await sleep(1000);
  const rss = rssMiB(pid);
  const metrics = await scrape(url);
  const stats = (await (await fetch(`${url}/stats`)).json()) as { workflows: { running: number } };
  // Then the running phase: every workflow in flight, the first calls answered after the upstream's
  // latency and the waiting tasks starting in their place. Memory is sampled every second of it.
  let runningPeakRssMiB = rss;
  const runningUntil = Date.now() + upstreamLatencyMs + runningExtraMs;
  while (Date.now() < runningUntil) {
    await sleep(1000);
    runningPeakRssMiB = Math.max(runningPeakRssMiB, rssMiB(pid));
  }
  const running = await scrape(url);
  return {
    idleRssMiB,
    accepted: acceptedCount,
    nextOneStatus: refused.status,
    runningAtPeak: stats.workflows.running,
    rssMiB: rss,
    ...metrics,
    running: {
      seconds: (upstreamLatencyMs + runningExtraMs) / 1000,
      peakRssMiB: runningPeakRssMiB,
      ...running,
    },
  };
}

type LoopDelay = { p50: number; p99: number; max: number };

// The same burst against the reference, a bare node:http server that parses each body and answers 202,
// measured the same way (10 ms samples, from a second before the burst to a second after it): what a
// thousand requests at once cost Node.js on this machine before any of the service's own work.
async function referenceBurst(): Promise<LoopDelay> {
  const reference = await startBareServer();
  const delay = async () => (await (await fetch(`${reference.url}/event-loop-delay`)).json()) as LoopDelay;
  try {
    await sleep(1000);
    await delay();
    await Promise.all(
      Array.from({ length: workflowCount }, () => post(reference.url, "/workflow", tenTaskWorkflow)),
    );
    await sleep(1000);
    return await delay();
  } finally {
    await reference.stop();
  }
}

// 5000 chat requests (categorizer, then the answer), measured once all have arrived and while they wait
// for the upstream.
async function chatLoad({ url, pid }: Running) {
  await eventLoopDelayMs(url);
  const started = Date.now();
  const chats = Array.from({ length: chatCount }, () =>
    post(url, "/chat", { message: "What are the benefits of renewable energy?" }).then(
      async (r) => {
        await r.arrayBuffer();
        return r.status;
      },
      () => 0,
    ),
  );
  await sleep(upstreamLatencyMs / 2);
  const rss = rssMiB(pid);
  const metrics = await scrape(url);
  const statuses = await Promise.all(chats);
  return {
    sent: chatCount,
    answered: statuses.filter((s) => s === 200).length,
    seconds: round((Date.now() - started) / 1000, 1),
    rssMiB: rss,
    ...metrics,
  };
}

export async function scale(): Promise<string> {
  const upstream = await startUpstream(upstreamLatencyMs);
  try {
    // The reference's burst just before and just after the orchestrator's, so that both see the same machine.
    const referenceBefore = await referenceBurst();
    const workflows = await withOrchestrator(upstream.url, shipped, workflowLoad);
    const referenceAfter = await referenceBurst();
    const allInFlight = await withOrchestrator(
      upstream.url,
      { ...shipped, queuing: { maxConcurrentCallsPerModel: allInFlightLimit } },
      workflowLoad,
    );
    const chats = await withOrchestrator(upstream.url, shipped, chatLoad);

    const result = {
      upstreamLatencyMs,
      referenceBurst: { before: referenceBefore, after: referenceAfter },
      workflows,
      workflowsAllCallsInFlight: allInFlight,
      chats,
    };
    const loop = ({ p50, p99, max }: LoopDelay) => `${p50} / ${p99} / ${max}`;
    const calls = ({ inFlight, waiting }: { inFlight: number; waiting: number }) =>
      `${inFlight} / ${waiting}`;
    const table = markdownTable(
      [
        "load",
        "limit per model",
        "calls in flight / waiting",
        "RSS MiB",
        "event-loop delay p50 / p99 / max ms",
        "outcome",
      ],
      [
        ["idle", "1024 (shipped)", "0 / 0", workflows.idleRssMiB, "-", "-"],
        [
          `${workflowCount} workflows (10 tasks each)`,
          "1024 (shipped)",
          calls(workflows.upstreamCalls),
          workflows.rssMiB,
          loop(workflows.eventLoopDelayMs),
          `${workflows.accepted} accepted, ${workflows.runningAtPeak} running; the next one: HTTP ${workflows.nextOneStatus}`,
        ],
        [
          `reference: a bare node:http server, the same burst of ${workflowCount} POSTs, just before / just after`,
          "-",
          "-",
          "-",
          `${loop(referenceBefore)}; ${loop(referenceAfter)}`,
          "answers 202 and does nothing else",
        ],
        [
          `${workflowCount} workflows (10 tasks each), running phase (${workflows.running.seconds} s after the burst)`,
          "1024 (shipped)",
          calls(workflows.running.upstreamCalls),
          `${workflows.running.peakRssMiB} (peak)`,
          loop(workflows.running.eventLoopDelayMs),
          "-",
        ],
        [
          `${workflowCount} workflows (10 tasks each), every call in flight`,
          `${allInFlightLimit} (not shipped)`,
          calls(allInFlight.upstreamCalls),
          allInFlight.rssMiB,
          loop(allInFlight.eventLoopDelayMs),
          `${allInFlight.accepted} accepted, ${allInFlight.runningAtPeak} running; the next one: HTTP ${allInFlight.nextOneStatus}`,
        ],
        [
          `${chatCount} chat requests`,
          "1024 (shipped)",
          calls(chats.upstreamCalls),
          chats.rssMiB,
          loop(chats.eventLoopDelayMs),
          `${chats.answered} answered in ${chats.seconds} s`,
        ],
      ],
    );
    writeResult("scale", result, table);
    return [
      `### Scale (upstream latency ${upstreamLatencyMs} ms)`,
      "",
      "Limits as shipped (1024 upstream calls per model): of the workflows' 10,000 calls about 1000 are in",
      `flight and the rest wait for a slot. The row "every call in flight" lifts the limit to ${allInFlightLimit}`,
      "(not a shipped configuration): until this benchmark was changed, that was its only workflow figure.",
      "The workflow rows: first the burst of 1000 submissions and the second after it, then the running",
      "phase that follows. The event-loop histogram samples every 10 ms, so an idle loop reads about 10 ms.",
      "The reference row is the same burst against a bare node:http server that answers 202 and does nothing",
      "else, just before and just after the orchestrator's: the delay accepting and answering that many",
      "requests at once costs Node.js on this machine before any of the service's own work.",
      "",
      table,
    ].join("\n");
  } finally {
    await upstream.stop();
  }
}
