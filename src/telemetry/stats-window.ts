import { invalidRequest } from "../core/errors.ts";

const msPer = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const defaultWindowMs = 24 * msPer.h;

// `?since=` of /stats: an ISO time, a duration back from now (`15m`, `24h`, `7d`) or `all`; 24h by default.
export function parseSince(value: string | undefined, now: number): string {
  if (value === undefined || value === "") return new Date(now - defaultWindowMs).toISOString();
  if (value === "all") return new Date(0).toISOString();
  const duration = /^(\d{1,6})([mhd])$/.exec(value);
  if (duration) {
    const unit = duration[2] as keyof typeof msPer;
    return new Date(now - Number(duration[1]) * msPer[unit]).toISOString();
  }
  const time = Date.parse(value);
  if (/^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(time)) return new Date(time).toISOString();
  throw invalidRequest(
    "since",
    "must be an ISO time (2026-11-25T00:00:00Z), a duration such as 15m, 24h or 7d, or all",
  );
}
