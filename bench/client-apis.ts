import { type Measured, measureLoad } from "./lib/load.ts";
import { type Running, startOrchestrator, startUpstream } from "./lib/processes.ts";
import { markdownTable, round, writeResult } from "./lib/report.ts";

// What the Responses and Messages translations cost: the same question to the same role through
// /v1/chat/completions (the reference), /v1/responses and /v1/messages of one orchestrator process in
// front of a fixed-latency upstream. The three take turns within each repetition (each repetition starting
// with another), so a busy machine slows all three alike; every figure is a difference against chat
// completions in the same repetition.
const upstreamLatencyMs = Number(process.env.BENCH_UPSTREAM_LATENCY_MS ?? 20);
const durationSeconds = Number(process.env.BENCH_DURATION_SECONDS ?? 10);
const repetitions = Number(process.env.BENCH_REPETITIONS ?? 3);
const connections = 10;

const question = "What are the benefits of renewable energy?";
const endpoints = {
  "/v1/chat/completions": { model: "medium_ai", messages: [{ role: "user", content: question }] },
  "/v1/responses": { model: "medium_ai", input: question },
  "/v1/messages": { model: "medium_ai", max_tokens: 1024, messages: [{ role: "user", content: question }] },
} as const;
type Endpoint = keyof typeof endpoints;

function measure(target: Running, path: Endpoint): Promise<Measured> {
  return measureLoad(target, { path, connections, body: endpoints[path], durationSeconds });
}

export async function clientApis(): Promise<string> {
  const measured: Array<Record<Endpoint, Measured>> = [];
  for (let n = 1; n <= repetitions; n++) {
    const upstream = await startUpstream(upstreamLatencyMs);
    const orchestrator = await startOrchestrator(upstream.url, {
      rateLimits: { clients: { requestsPerMinute: 0 } },
      cache: { enabled: false },
    });
    try {
      const runs = {} as Record<Endpoint, Measured>;
      // Each repetition starts with another endpoint, so none always runs on a colder process.
      const paths = Object.keys(endpoints) as Endpoint[];
      const order = [...paths.slice((n - 1) % paths.length), ...paths.slice(0, (n - 1) % paths.length)];
      for (const path of order) runs[path] = await measure(orchestrator, path);
      measured.push(runs);
    } finally {
      await Promise.all([orchestrator.stop(), upstream.stop()]);
    }
  }
  const rows = measured.flatMap((runs, i) =>
    (Object.keys(runs) as Endpoint[]).map((path) => {
      const m = runs[path];
      const reference = runs["/v1/chat/completions"];
      return [
        i + 1,
        path,
        m.rps,
        m.meanMs,
        m.p50,
        m.p99,
        round(m.meanMs - reference.meanMs),
        m.cpuMsPerRequest,
        m.errors,
      ];
    }),
  );
  const table = markdownTable(
    [
      "repetition",
      "endpoint",
      "req/s",
      "mean ms",
      "p50 ms",
      "p99 ms",
      "mean ms vs chat completions",
      "CPU ms/request",
      "errors",
    ],
    rows,
  );
  writeResult(
    "client-apis",
    { upstreamLatencyMs, durationSeconds, repetitions, connections, measured },
    table,
  );
  return `### Client APIs (upstream latency ${upstreamLatencyMs} ms, c=${connections}, ${durationSeconds} s per run, ${repetitions} repetitions)\n\n${table}`;
}
