import autocannon from "autocannon";
import { startOrchestrator, startPortkey, startUpstream } from "./lib/processes.ts";
import { markdownTable, round, writeResult } from "./lib/report.ts";

// Gateway overhead: the same chat completion sent straight to a fixed-latency upstream, through the
// orchestrator (fixed model: no categorizer), and through Portkey's gateway, at two concurrency levels.
const upstreamLatencyMs = Number(process.env.BENCH_UPSTREAM_LATENCY_MS ?? 20);
const durationSeconds = Number(process.env.BENCH_DURATION_SECONDS ?? 10);
const concurrencies = [10, 100];

interface Measured {
  readonly target: string;
  readonly connections: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

async function measure(
  target: string,
  url: string,
  connections: number,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Measured> {
  const run = async (seconds: number) =>
    autocannon({
      url,
      method: "POST",
      connections,
      duration: seconds,
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  await run(2); // warm-up: JIT, connection pools
  const result = await run(durationSeconds);
  return {
    target,
    connections,
    rps: round(result.requests.average, 0),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

export async function gatewayOverhead(): Promise<string> {
  const upstream = await startUpstream(upstreamLatencyMs);
  const orchestrator = await startOrchestrator(upstream.url, {
    rateLimits: { clients: { requestsPerMinute: 0 } },
    cache: { enabled: false },
    queuing: { maxConcurrentUpstreamCalls: 1000 },
  });
  const portkey = await startPortkey();
  const messages = [{ role: "user", content: "What are the benefits of renewable energy?" }];
  const results: Measured[] = [];
  try {
    for (const connections of concurrencies) {
      results.push(
        await measure("direct to upstream", `${upstream.url}/v1/chat/completions`, connections, {
          model: "meta-llama/llama-3.3-70b-instruct",
          messages,
        }),
      );
      results.push(
        await measure("orchestrator", `${orchestrator.url}/v1/chat/completions`, connections, {
          model: "medium_ai",
          messages,
        }),
      );
      results.push(
        await measure(
          "Portkey gateway",
          `${portkey.url}/v1/chat/completions`,
          connections,
          { model: "meta-llama/llama-3.3-70b-instruct", messages },
          {
            "x-portkey-provider": "openai",
            "x-portkey-custom-host": `${upstream.url}/v1`,
            authorization: "Bearer sk-bench",
          },
        ),
      );
    }
  } finally {
    await Promise.all([orchestrator.stop(), portkey.stop(), upstream.stop()]);
  }
  const rows = results.map((r) => {
    const direct = results.find((d) => d.target === "direct to upstream" && d.connections === r.connections);
    const portkeyRow = results.find((d) => d.target === "Portkey gateway" && d.connections === r.connections);
    return [
      r.target,
      r.connections,
      r.rps,
      r.p50,
      r.p99,
      direct ? round(r.p50 - direct.p50, 1) : "-",
      direct ? round(r.p99 - direct.p99, 1) : "-",
      direct ? round(r.rps / direct.rps) : "-",
      portkeyRow ? round(r.rps / portkeyRow.rps) : "-",
      r.errors,
    ];
  });
  const table = markdownTable(
    [
      "target",
      "concurrency",
      "req/s",
      "p50 ms",
      "p99 ms",
      "added p50 ms",
      "added p99 ms",
      "req/s vs direct",
      "req/s vs Portkey",
      "errors",
    ],
    rows,
  );
  writeResult("gateway-overhead", { upstreamLatencyMs, durationSeconds, results }, table);
  return `### Gateway overhead (upstream latency ${upstreamLatencyMs} ms, ${durationSeconds} s per run)\n\n${table}`;
}
