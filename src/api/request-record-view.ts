import { z } from "zod";
import type { LedgerEntry, RequestRecord } from "../store/usage-store.ts";
import { roundUsd } from "./views.ts";

const callRecordSchema = z.object({
  at: z.string(),
  purpose: z.string(),
  kind: z.string(),
  role: z.string(),
  model: z.string(),
  provider: z.string(),
  outcome: z.string(),
  error_code: z.string().nullable(),
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  reasoning_tokens: z.number(),
  // Of the prompt tokens, those the upstream read from and wrote to its prompt cache.
  cache_read_tokens: z.number(),
  cache_write_tokens: z.number(),
  cost_usd: z.number(),
  cost_source: z.string(),
  latency_ms: z.number(),
  cache_hit: z.boolean(),
  saved_usd: z.number().optional(),
  speculative: z.boolean(),
  escalation: z.string().nullable(),
  shadow: z.boolean(),
  workflow_id: z.string().nullable(),
});

// The answer of GET /requests/{id}, as the OpenAPI document describes it.
export const requestRecordSchema = z.object({
  request_id: z.string(),
  request: z
    .object({
      at: z.string(),
      method: z.string(),
      endpoint: z.string(),
      status: z.number(),
      latency_ms: z.number(),
      cache_hit: z.boolean(),
      session_id: z.string().nullable(),
    })
    .nullable(),
  routing: z.object({
    rule: z.string().nullable(),
    category: z.string().nullable(),
    trace: z.array(z.object({ step: z.string(), detail: z.string(), ms: z.number().optional() })).nullable(),
  }),
  workflow: z.object({ id: z.string(), status: z.string(), url: z.string() }).nullable(),
  calls: z.array(callRecordSchema),
  totals: z.object({
    calls: z.number(),
    prompt_tokens: z.number(),
    completion_tokens: z.number(),
    reasoning_tokens: z.number(),
    cache_read_tokens: z.number(),
    cache_write_tokens: z.number(),
    cost_usd: z.number(),
  }),
  earlier_requests: z.array(z.object({ at: z.string(), endpoint: z.string() })).optional(),
});

// GET /requests/{id}: what the service knows of one request, from the request log and the cost ledger.
export function requestRecordView(
  requestId: string,
  record: RequestRecord,
): z.output<typeof requestRecordSchema> {
  const [request, ...earlier] = record.requests;
  // While the request is in flight there is no log row yet: the route is read from its calls.
  const routed = record.calls.find((c) => !c.shadow && (c.category !== null || c.routeRule));
  const own = record.calls.filter((c) => !c.shadow);
  const run = record.runs[0];
  return {
    request_id: requestId,
    request: request
      ? {
          at: request.at,
          method: request.method,
          endpoint: request.endpoint,
          status: request.status,
          latency_ms: Math.round(request.latencyMs * 10) / 10,
          cache_hit: request.cacheHit,
          session_id: request.sessionId,
        }
      : null,
    routing: {
      rule: request?.routeRule ?? routed?.routeRule ?? null,
      category: request?.category ?? routed?.category ?? null,
      trace: request?.routeTrace ? [...request.routeTrace] : null,
    },
    workflow: run ? { id: run.id, status: run.status, url: `/workflow/${run.id}` } : null,
    calls: record.calls.map(callView),
    // What the request's own calls cost (shadow calls for the quality figure are listed but not counted).
    totals: {
      calls: own.length,
      prompt_tokens: sum(own, (c) => c.promptTokens),
      completion_tokens: sum(own, (c) => c.completionTokens),
      reasoning_tokens: sum(own, (c) => c.reasoningTokens ?? 0),
      cache_read_tokens: sum(own, (c) => c.cacheReadTokens ?? 0),
      cache_write_tokens: sum(own, (c) => c.cacheWriteTokens ?? 0),
      cost_usd: roundUsd(sum(own, (c) => c.costUsd)),
    },
    // Earlier requests that came with the same x-request-id (a client reusing its own ids); their calls are
    // listed with this one's.
    ...(earlier.length > 0
      ? { earlier_requests: earlier.map((e) => ({ at: e.at, endpoint: e.endpoint })) }
      : {}),
  };
}

function callView(c: LedgerEntry) {
  return {
    at: c.at,
    purpose: c.purpose,
    kind: c.kind,
    role: c.role,
    model: c.model,
    provider: c.provider,
    outcome: c.outcome,
    error_code: c.errorCode ?? null,
    prompt_tokens: c.promptTokens,
    completion_tokens: c.completionTokens,
    reasoning_tokens: c.reasoningTokens ?? 0,
    cache_read_tokens: c.cacheReadTokens ?? 0,
    cache_write_tokens: c.cacheWriteTokens ?? 0,
    cost_usd: roundUsd(c.costUsd),
    cost_source: c.costSource,
    latency_ms: Math.round(c.latencyMs * 10) / 10,
    cache_hit: c.outcome === "cached",
    ...(c.outcome === "cached" ? { saved_usd: roundUsd(c.savedUsd ?? 0) } : {}),
    // A call started on the likely route before the label was known, then refuted and aborted.
    speculative: c.purpose === "speculative",
    escalation: c.escalation ?? null,
    shadow: c.shadow === true,
    workflow_id: c.workflowId,
  };
}

function sum(calls: readonly LedgerEntry[], of: (c: LedgerEntry) => number): number {
  return calls.reduce((total, c) => total + of(c), 0);
}
