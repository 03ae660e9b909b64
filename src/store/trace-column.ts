import type { TraceStep, TraceStepName } from "../core/trace-step.ts";

// The routing trace as the request log keeps it: JSON tuples rather than objects, [step, detail] or
// [step, detail, ms], since the field names would be most of every row's bytes. Written in the background
// batch, never on the request's own path.
type StoredStep = [TraceStepName, string] | [TraceStepName, string, number];

// The details are the service's own words, with numbers and names from the config; a client-named model
// is the one part a request supplies, so each detail is kept to a bounded length all the same.
const maxDetailChars = 500;
const maxSteps = 64;

export function encodeTrace(trace: readonly TraceStep[] | null | undefined): string | null {
  if (!trace || trace.length === 0) return null;
  const stored = trace.slice(0, maxSteps).map((t): StoredStep => {
    const detail = t.detail.length > maxDetailChars ? `${t.detail.slice(0, maxDetailChars - 1)}…` : t.detail;
    return t.ms === undefined ? [t.step, detail] : [t.step, detail, Math.round(t.ms)];
  });
  return JSON.stringify(stored);
}

// A column that cannot be read (written by hand, say) reads as no trace rather than failing the lookup.
export function decodeTrace(column: string | null): TraceStep[] | null {
  if (column === null) return null;
  try {
    const stored: unknown = JSON.parse(column);
    if (!Array.isArray(stored)) return null;
    return stored.flatMap((entry): TraceStep[] => {
      if (!Array.isArray(entry) || typeof entry[0] !== "string" || typeof entry[1] !== "string") return [];
      const step = { step: entry[0] as TraceStepName, detail: entry[1] };
      return [typeof entry[2] === "number" ? { ...step, ms: entry[2] } : step];
    });
  } catch {
    return null;
  }
}
