import autocannon from "autocannon";
import { cpuMs } from "./probe.ts";
import type { Running } from "./processes.ts";
import { round } from "./report.ts";

export interface Measured {
  readonly rps: number;
  readonly meanMs: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly requests: number;
  // CPU the target process used per request answered.
  readonly cpuMsPerRequest: number;
}

// POSTs one body to a running process for the given time after a short warm-up (JIT, connection pools),
// and measures throughput, latency, errors and the CPU the process spent per request.
export async function measureLoad(
  target: Running,
  request: {
    readonly path: string;
    readonly connections: number;
    readonly body: unknown;
    readonly headers?: Record<string, string>;
    readonly durationSeconds: number;
  },
): Promise<Measured> {
  const run = (seconds: number) =>
    autocannon({
      url: `${target.url}${request.path}`,
      method: "POST",
      connections: request.connections,
      duration: seconds,
      headers: { "content-type": "application/json", ...request.headers },
      body: JSON.stringify(request.body),
    });
  await run(2);
  const cpuBefore = cpuMs(target.pid);
  const result = await run(request.durationSeconds);
  const answered = Math.max(1, result.requests.total);
  return {
    rps: round(result.requests.average, 0),
    meanMs: round(result.latency.mean, 2),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
    requests: result.requests.total,
    cpuMsPerRequest: round((cpuMs(target.pid) - cpuBefore) / answered, 3),
  };
}
