import { type Measured, measureLoad } from "./lib/load.ts";
import { peakRssMiB, rssMiB } from "./lib/probe.ts";
import {
  type Running,
  startOrchestrator,
  startPortkey,
  startRawProxy,
  startUpstream,
} from "./lib/processes.ts";
import { markdownTable, round, writeResult } from "./lib/report.ts";

// Gateway overhead. The same chat completion through a bare node:http + undici pass-through proxy (the
// reference), through the orchestrator (fixed model: no categorizer) and through Portkey's gateway, all in
// front of one fixed-latency upstream; and POST /chat (categorizer, then the answer) against two round trips
// through the reference. The machine is shared, so every figure is a ratio or a difference against the
// reference measured in the same repetition, and each repetition starts every process afresh.
const upstreamLatencyMs = Number(process.env.BENCH_UPSTREAM_LATENCY_MS ?? 20);
const durationSeconds = Number(process.env.BENCH_DURATION_SECONDS ?? 10);
const repetitions = Number(process.env.BENCH_REPETITIONS ?? 3);

function measure(
  target: Running,
  path: string,
  connections: number,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Measured> {
  return measureLoad(target, { path, connections, body, headers, durationSeconds });
}

const messages = [{ role: "user", content: "What are the benefits of renewable energy?" }];
const upstreamModel = "meta-llama/llama-3.3-70b-instruct";

interface Repetition {
  readonly repetition: number;
  readonly idleRssMiB: { orchestrator: number; reference: number; portkey: number };
  readonly peakRssMiB: { orchestrator: number; reference: number; portkey: number };
  readonly runs: Record<string, Measured>;
}

async function repetition(n: number): Promise<Repetition> {
  const upstream = await startUpstream(upstreamLatencyMs);
  const reference = await startRawProxy(upstream.url);
  // As shipped, except what a load test from one client would trip over: the client rate limit, and the
  // response cache (identical requests).
  const orchestrator = await startOrchestrator(upstream.url, {
    rateLimits: { clients: { requestsPerMinute: 0 } },
    cache: { enabled: false },
  });
  const portkey = await startPortkey();
  const portkeyHeaders = {
    "x-portkey-provider": "openai",
    "x-portkey-custom-host": `${upstream.url}/v1`,
    authorization: "Bearer sk-bench",
  };
  try {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const idleRssMiB = {
      orchestrator: rssMiB(orchestrator.pid),
      reference: rssMiB(reference.pid),
      portkey: rssMiB(portkey.pid),
    };
    const runs: Record<string, Measured> = {};
    const completion = { model: upstreamModel, messages };
    for (const c of [10, 100]) {
      runs[`reference c=${c}`] = await measure(reference, "/v1/chat/completions", c, completion);
      runs[`orchestrator c=${c}`] = await measure(orchestrator, "/v1/chat/completions", c, {
        model: "medium_ai",
        messages,
      });
      runs[`portkey c=${c}`] = await measure(portkey, "/v1/chat/completions", c, completion, portkeyHeaders);
    }
    const peak = {
      orchestrator: peakRssMiB(orchestrator.pid),
      reference: peakRssMiB(reference.pid),
      portkey: peakRssMiB(portkey.pid),
    };
    runs["reference two round trips c=10"] = await measure(reference, "/two-round-trips", 10, completion);
    runs["orchestrator /chat c=10"] = await measure(orchestrator, "/chat", 10, {
      message: messages[0]?.content,
    });
    return { repetition: n, idleRssMiB, peakRssMiB: peak, runs };
  } finally {
    await Promise.all([orchestrator.stop(), portkey.stop(), reference.stop(), upstream.stop()]);
  }
}

interface Target {
  readonly name: string;
  readonly goal: string;
  readonly value: (r: Repetition) => number;
  readonly met: (value: number) => boolean;
}

const run = (r: Repetition, name: string): Measured => {
  const measured = r.runs[name];
  if (!measured) throw new Error(`no run named ${name}`);
  return measured;
};

export const gatewayTargets: readonly Target[] = [
  {
    name: "c=100 req/s, orchestrator / reference",
    goal: ">= 0.8",
    value: (r) => round(run(r, "orchestrator c=100").rps / run(r, "reference c=100").rps),
    met: (v) => v >= 0.8,
  },
  {
    name: "c=100 errors, orchestrator",
    goal: "0",
    value: (r) => run(r, "orchestrator c=100").errors,
    met: (v) => v === 0,
  },
  {
    name: "c=100 req/s, orchestrator / Portkey",
    goal: "(comparison)",
    value: (r) => round(run(r, "orchestrator c=100").rps / run(r, "portkey c=100").rps),
    met: () => true,
  },
  {
    name: "c=10 mean latency, orchestrator - reference (ms)",
    goal: "<= 1",
    value: (r) => round(run(r, "orchestrator c=10").meanMs - run(r, "reference c=10").meanMs),
    met: (v) => v <= 1,
  },
  {
    name: "c=10 mean latency, Portkey - reference (ms)",
    goal: "(comparison)",
    value: (r) => round(run(r, "portkey c=10").meanMs - run(r, "reference c=10").meanMs),
    met: () => true,
  },
  {
    name: "POST /chat c=10 mean latency - two reference round trips (ms)",
    goal: "<= 2",
    value: (r) =>
      round(run(r, "orchestrator /chat c=10").meanMs - run(r, "reference two round trips c=10").meanMs),
    met: (v) => v <= 2,
  },
  {
    name: "RSS idle, orchestrator (MiB)",
    goal: "<= 150",
    value: (r) => r.idleRssMiB.orchestrator,
    met: (v) => v <= 150,
  },
  {
    name: "RSS peak through the c=100 run, orchestrator (MiB)",
    goal: "<= 250",
    value: (r) => r.peakRssMiB.orchestrator,
    met: (v) => v <= 250,
  },
  {
    name: "CPU per request at c=100, orchestrator / reference",
    goal: "(diagnostic)",
    value: (r) =>
      round(run(r, "orchestrator c=100").cpuMsPerRequest / run(r, "reference c=100").cpuMsPerRequest),
    met: () => true,
  },
];

export async function gatewayOverhead(): Promise<string> {
  const measured: Repetition[] = [];
  for (let n = 1; n <= repetitions; n++) measured.push(await repetition(n));

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
  const memoryTable = markdownTable(
    ["repetition", "process", "idle RSS MiB", "peak RSS MiB"],
    measured.flatMap((r) =>
      (["orchestrator", "reference", "portkey"] as const).map((p) => [
        r.repetition,
        p,
        r.idleRssMiB[p],
        r.peakRssMiB[p],
      ]),
    ),
  );
  const targetsTable = markdownTable(
    ["figure", "goal", ...measured.map((r) => `rep ${r.repetition}`), "met in"],
    gatewayTargets.map((t) => {
      const values = measured.map((r) => t.value(r));
      const met = values.filter((v) => t.met(v)).length;
      return [t.name, t.goal, ...values, t.goal.startsWith("(") ? "-" : `${met}/${values.length}`];
    }),
  );
  const tables = `${targetsTable}\n\n${runsTable}\n\n${memoryTable}`;
  writeResult("gateway-overhead", { upstreamLatencyMs, durationSeconds, repetitions, measured }, tables);
  return `### Gateway overhead (upstream latency ${upstreamLatencyMs} ms, ${durationSeconds} s per run, ${repetitions} repetitions)\n\n${tables}`;
}
