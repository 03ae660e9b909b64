import { readFileSync } from "node:fs";

// Resident memory of a process, from the kernel's own accounting.
export function rssMiB(pid: number): number {
  return statusMiB(pid, "VmRSS");
}

// The highest resident memory the process has had since it started.
export function peakRssMiB(pid: number): number {
  return statusMiB(pid, "VmHWM");
}

function statusMiB(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status)?.[1] ?? 0);
  return Math.round(kib / 1024);
}

// CPU time (user + system) the process has used so far, in milliseconds.
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  // utime and stime are fields 14 and 15 of /proc/<pid>/stat, counted in clock ticks (100 per second).
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) * 10;
}

// Event-loop delay of the orchestrator since its previous scrape, from its own /metrics.
export async function eventLoopDelayMs(baseUrl: string): Promise<{ p50: number; p99: number; max: number }> {
  return eventLoopDelayFrom(await (await fetch(`${baseUrl}/metrics`)).text());
}

// The same, from a scrape already taken (each scrape starts the next window).
export function eventLoopDelayFrom(text: string): { p50: number; p99: number; max: number } {
  const value = (name: string) =>
    Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN) * 1000;
  return {
    p50: Math.round(value("orchestrator_nodejs_eventloop_lag_p50_seconds") * 10) / 10,
    p99: Math.round(value("orchestrator_nodejs_eventloop_lag_p99_seconds") * 10) / 10,
    max: Math.round(value("orchestrator_nodejs_eventloop_lag_max_seconds") * 10) / 10,
  };
}
