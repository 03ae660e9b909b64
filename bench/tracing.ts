import { type Measured, measureLoad } from "./lib/load.ts";
import { peakRssMiB, rssMiB } from "./lib/probe.ts";
import {
  type Running,
  startOrchestrator,
  startOtlpSink,
  startRawProxy,
  startUpstream,
} from "./lib/processes.ts";
import { markdownTable, round, writeResult } from "./lib/report.ts";

// What OpenTelemetry tracing costs: the orchestrator with tracing off (as shipped) and on (every request
// sampled, exported over OTLP/HTTP protobuf to a local collector that discards what it gets), side by side
// with the reference proxy, in front of one fixed-latency upstream. Same settings as the gateway benchmark.
const upstreamLatencyMs = Number(process.env.BENCH_UPSTREAM_LATENCY_MS ?? 20);
const durationSeconds = Number(process.env.BENCH_DURATION_SECONDS ?? 10);
const repetitions = Number(process.env.BENCH_REPETITIONS ?? 3);

const messages = [{ role: "user", content: "What are the benefits of renewable energy?" }];
const upstreamModel = "meta-llama/llama-3.3-70b-instruct";
// Port 9 (discard) on loopback: nothing listens there on these machines, so a connection is refused at once.
const deadCollectorUrl = "http://127.0.0.1:9";
const shipped = { rateLimits: { clients: { requestsPerMinute: 0 } }, cache: { enabled: false } };

interface Repetition {
  readonly repetition: number;
  readonly idleRssMiB: { off: number; on: number };
  readonly peakRssMiB: { off: number; on: number };
  readonly exportedBytes: number;
  readonly runs: Record<string, Measured>;
}

const measure = (target: Running, path: string, connections: number, body: unknown) =>
  measureLoad(target, { path, connections, body, headers: {}, durationSeconds });

async function repetition(n: number): Promise<Repetition> {
  const upstream = await startUpstream(upstreamLatencyMs);
  const sink = await startOtlpSink();
  const reference = await startRawProxy(upstream.url);
  const off = await startOrchestrator(upstream.url, shipped);
  const on = await startOrchestrator(upstream.url, {
    ...shipped,
    monitoring: { otel: { tracesEndpoint: `${sink.url}/v1/traces` } },
  });
  // A collector that is down: nothing listens on the port, so every export fails.
  const dead = await startOrchestrator(upstream.url, {
    ...shipped,
    monitoring: { otel: { tracesEndpoint: `${deadCollectorUrl}/v1/traces` } },
  });
  try {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const idleRssMiB = { off: rssMiB(off.pid), on: rssMiB(on.pid) };
    const runs: Record<string, Measured> = {};
    const completion = { model: upstreamModel, messages };
    const routed = { model: "medium_ai", messages };
    for (const c of [10, 100]) {
      runs[`reference c=${c}`] = await measure(reference, "/v1/chat/completions", c, completion);
      runs[`tracing off c=${c}`] = await measure(off, "/v1/chat/completions", c, routed);
      runs[`tracing on c=${c}`] = await measure(on, "/v1/chat/completions", c, routed);
    }
    runs["collector down c=10"] = await measure(dead, "/v1/chat/completions", 10, routed);
    const peak = { off: peakRssMiB(off.pid), on: peakRssMiB(on.pid) };
    runs["tracing off /chat c=10"] = await measure(off, "/chat", 10, { message: messages[0]?.content });
    runs["tracing on /chat c=10"] = await measure(on, "/chat", 10, { message: messages[0]?.content });
    const { received } = (await (await fetch(sink.url)).json()) as { received: number };
    return { repetition: n, idleRssMiB, peakRssMiB: peak, exportedBytes: received, runs };
  } finally {
    await Promise.all([on.stop(), off.stop(), dead.stop(), reference.stop(), sink.stop(), upstream.stop()]);
  }
}

const run = (r: Repetition, name: string): Measured => {
  const measured = r.runs[name];
  if (!measured) throw new Error(`no run named ${name}`);
  return measured;
};

const figures: ReadonlyArray<readonly [string, (r: Repetition) => number]> = [
  ["RSS idle, off (MiB)", (r) => r.idleRssMiB.off],
  ["RSS idle, on (MiB)", (r) => r.idleRssMiB.on],
  ["RSS peak through c=100, off (MiB)", (r) => r.peakRssMiB.off],
  ["RSS peak through c=100, on (MiB)", (r) => r.peakRssMiB.on],
  [
    "c=100 req/s, off / reference",
    (r) => round(run(r, "tracing off c=100").rps / run(r, "reference c=100").rps),
  ],
  [
    "c=100 req/s, on / reference",
    (r) => round(run(r, "tracing on c=100").rps / run(r, "reference c=100").rps),
  ],
  [
    "c=10 mean latency, off - reference (ms)",
    (r) => round(run(r, "tracing off c=10").meanMs - run(r, "reference c=10").meanMs),
  ],
  [
    "c=10 mean latency, on - reference (ms)",
    (r) => round(run(r, "tracing on c=10").meanMs - run(r, "reference c=10").meanMs),
  ],
  [
    "c=10 mean latency, collector down - reference (ms)",
    (r) => round(run(r, "collector down c=10").meanMs - run(r, "reference c=10").meanMs),
  ],
  ["errors, collector down", (r) => run(r, "collector down c=10").errors],
  [
    "/chat c=10 mean latency, on - off (ms)",
    (r) => round(run(r, "tracing on /chat c=10").meanMs - run(r, "tracing off /chat c=10").meanMs),
  ],
  [
    "CPU per request at c=100, on / off",
    (r) => round(run(r, "tracing on c=100").cpuMsPerRequest / run(r, "tracing off c=100").cpuMsPerRequest),
  ],
  [
    "errors, on (all runs)",
    (r) =>
      Object.entries(r.runs)
        .filter(([name]) => name.startsWith("tracing on"))
        .reduce((sum, [, m]) => sum + m.errors, 0),
  ],
  ["OTLP bytes exported (MiB)", (r) => round(r.exportedBytes / 2 ** 20)],
];

export async function tracing(): Promise<string> {
  const measured: Repetition[] = [];
  for (let n = 1; n <= repetitions; n++) measured.push(await repetition(n));
  const figuresTable = markdownTable(
    ["figure", ...measured.map((r) => `rep ${r.repetition}`)],
    figures.map(([name, value]) => [name, ...measured.map(value)]),
  );
  const runNames = Object.keys(measured[0]?.runs ?? {});
  const runsTable = markdownTable(
    ["repetition", "target", "req/s", "mean ms", "p50 ms", "p99 ms", "CPU ms/request", "errors"],
    measured.flatMap((r) =>
      runNames.map((name) => {
        const m = run(r, name);
        return [r.repetition, name, m.rps, m.meanMs, m.p50, m.p99, m.cpuMsPerRequest, m.errors];
      }),
    ),
  );
  const tables = `${figuresTable}\n\n${runsTable}`;
  writeResult("tracing", { upstreamLatencyMs, durationSeconds, repetitions, measured }, tables);
  return `### Tracing off and on (upstream latency ${upstreamLatencyMs} ms, ${durationSeconds} s per run, ${repetitions} repetitions)\n\n${tables}`;
}
