import { readFileSync } from "node:fs";

// Resident memory of a process, from the kernel's own accounting.
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0);
  return Math.round(kib / 1024);
}

// Event-loop delay of the orchestrator since its previous scrape, from its own /metrics.
export async function eventLoopDelayMs(baseUrl: string): Promise<{ p50: number; p99: number; max: number }> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const value = (name: string) =>
    Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN) * 1000;
  return {
    p50: Math.round(value("orchestrator_nodejs_eventloop_lag_p50_seconds") * 10) / 10,
    p99: Math.round(value("orchestrator_nodejs_eventloop_lag_p99_seconds") * 10) / 10,
    max: Math.round(value("orchestrator_nodejs_eventloop_lag_max_seconds") * 10) / 10,
  };
}
