import { type Kysely, type Selectable, sql, type Transaction } from "kysely";
import { batchInsert, type ColumnType, type Row } from "./batch-insert.ts";
import type { SqlDialectName } from "./migrations.ts";
import type { ApiRequestsTable, DatabaseSchema, UpstreamCallsTable } from "./schema.ts";
import { decodeTrace, encodeTrace } from "./trace-column.ts";
import { type CallOutcome, routingOverhead } from "./upstream-call.ts";
import type {
  CallSeriesRow,
  DeploymentUsageRow,
  LedgerEntry,
  ModelUsageRow,
  RequestCountRow,
  RequestEntry,
  RequestRecord,
  RequestSeriesRow,
  SeriesBucket,
  SeriesRows,
  ShadowSampleCountRow,
  ShadowSampleEntry,
  ShadowVerdictRow,
  SpendFilter,
  UsageStore,
  VerdictSeriesRow,
} from "./usage-store.ts";

// `at` is ISO 8601 text on both databases, so its first characters name the UTC hour or day it falls in:
// substr groups by bucket the same way on SQLite and PostgreSQL. Literal lengths, not parameters, so the
// selected and the grouped expression are the same text (PostgreSQL compares them as written).
const bucketKey = {
  hour: sql<string>`substr(at, 1, 13)`,
  day: sql<string>`substr(at, 1, 10)`,
} as const satisfies Record<SeriesBucket, unknown>;

const callColumns = {
  at: "text",
  request_id: "text",
  endpoint: "text",
  session_id: "text",
  workflow_id: "text",
  category: "text",
  purpose: "text",
  kind: "text",
  role: "text",
  model: "text",
  provider: "text",
  outcome: "text",
  error_code: "text",
  prompt_tokens: "integer",
  completion_tokens: "integer",
  reasoning_tokens: "integer",
  cache_read_tokens: "integer",
  cache_write_tokens: "integer",
  cache_saved_usd: "real",
  latency_ms: "real",
  cost_usd: "real",
  cost_source: "text",
  baseline_usd: "real",
  saved_usd: "real",
  escalation: "text",
  shadow: "integer",
  client_id: "text",
  route_rule: "text",
} as const satisfies Record<string, ColumnType>;

const requestColumns = {
  at: "text",
  request_id: "text",
  method: "text",
  endpoint: "text",
  status: "integer",
  category: "text",
  latency_ms: "real",
  cache_hit: "integer",
  session_id: "text",
  route_rule: "text",
  routing_trace: "text",
  client_id: "text",
  workflow_id: "text",
} as const satisfies Record<string, ColumnType>;

export class SqlUsageStore implements UsageStore {
  readonly #db: Kysely<DatabaseSchema>;
  readonly #insertCalls: ReturnType<typeof batchInsert<typeof callColumns>>;
  readonly #insertRequests: ReturnType<typeof batchInsert<typeof requestColumns>>;

  constructor(db: Kysely<DatabaseSchema>, dialect: SqlDialectName) {
    this.#db = db;
    this.#insertCalls = batchInsert("upstream_calls", callColumns, dialect);
    this.#insertRequests = batchInsert("api_requests", requestColumns, dialect);
  }

  async recordCalls(entries: readonly LedgerEntry[]): Promise<void> {
    await this.#insertCalls(this.#db, entries.map(callRow));
  }

  // Ledger rows written inside the caller's transaction (with the result of the task that made the calls).
  async recordCallsIn(trx: Transaction<DatabaseSchema>, entries: readonly LedgerEntry[]): Promise<void> {
    if (entries.length > 0) await this.#insertCalls.inTransaction(trx, entries.map(callRow));
  }

  async recordRequests(entries: readonly RequestEntry[]): Promise<void> {
    await this.#insertRequests(this.#db, entries.map(requestRow));
  }

  async recordUsage(calls: readonly LedgerEntry[], requests: readonly RequestEntry[]): Promise<void> {
    if (calls.length === 0) return this.recordRequests(requests);
    if (requests.length === 0) return this.recordCalls(calls);
    await this.#db.transaction().execute(async (trx) => {
      await this.#insertCalls.inTransaction(trx, calls.map(callRow));
      await this.#insertRequests.inTransaction(trx, requests.map(requestRow));
    });
  }

  async spentUsd(filter: SpendFilter): Promise<number> {
    let query = this.#db.selectFrom("upstream_calls").select(sql<number | null>`sum(cost_usd)`.as("spent"));
    if (filter.since !== undefined) query = query.where("at", ">=", filter.since);
    if (filter.sessionId !== undefined) query = query.where("session_id", "=", filter.sessionId);
    if (filter.clientId !== undefined) query = query.where("client_id", "=", filter.clientId);
    const row = await query.executeTakeFirst();
    return Number(row?.spent ?? 0);
  }

  async callsByModel(since: string): Promise<ModelUsageRow[]> {
    const rows = await this.#db
      .selectFrom("upstream_calls")
      .select([
        "model",
        "role",
        "outcome",
        sql<number>`count(*)`.as("calls"),
        sql<number>`sum(prompt_tokens)`.as("prompt_tokens"),
        sql<number>`sum(completion_tokens)`.as("completion_tokens"),
        sql<number>`sum(cache_read_tokens)`.as("cache_read_tokens"),
        sql<number>`sum(cache_write_tokens)`.as("cache_write_tokens"),
        sql<number>`sum(cost_usd)`.as("cost_usd"),
        sql<number>`sum(baseline_usd)`.as("baseline_usd"),
        sql<number>`sum(saved_usd)`.as("saved_usd"),
        sql<number>`sum(cache_saved_usd)`.as("cache_saved_usd"),
        "shadow",
      ])
      .where("at", ">=", since)
      .groupBy(["model", "role", "outcome", "shadow"])
      .orderBy("model")
      .execute();
    return rows.map((r) => ({
      model: r.model,
      role: r.role,
      outcome: r.outcome as CallOutcome,
      calls: Number(r.calls),
      promptTokens: Number(r.prompt_tokens),
      completionTokens: Number(r.completion_tokens),
      cacheReadTokens: Number(r.cache_read_tokens),
      cacheWriteTokens: Number(r.cache_write_tokens),
      costUsd: Number(r.cost_usd),
      baselineUsd: Number(r.baseline_usd),
      savedUsd: Number(r.saved_usd),
      cacheSavedUsd: Number(r.cache_saved_usd),
      shadow: Number(r.shadow) === 1,
    }));
  }

  async callsByDeployment(since: string): Promise<DeploymentUsageRow[]> {
    const rows = await this.#db
      .selectFrom("upstream_calls")
      .select([
        "provider",
        "model",
        "outcome",
        sql<number>`count(*)`.as("calls"),
        sql<number>`sum(prompt_tokens)`.as("prompt_tokens"),
        sql<number>`sum(completion_tokens)`.as("completion_tokens"),
        sql<number>`sum(cache_read_tokens)`.as("cache_read_tokens"),
        sql<number>`sum(cost_usd)`.as("cost_usd"),
      ])
      .where("at", ">=", since)
      .groupBy(["provider", "model", "outcome"])
      .orderBy("provider")
      .orderBy("model")
      .orderBy("outcome")
      .execute();
    return rows.map((r) => ({
      provider: r.provider,
      model: r.model,
      outcome: r.outcome as CallOutcome,
      calls: Number(r.calls),
      promptTokens: Number(r.prompt_tokens),
      completionTokens: Number(r.completion_tokens),
      cacheReadTokens: Number(r.cache_read_tokens),
      costUsd: Number(r.cost_usd),
    }));
  }

  async latenciesByModel(since: string): Promise<Map<string, number[]>> {
    const rows = await this.#db
      .selectFrom("upstream_calls")
      .select(["model", "latency_ms"])
      .where("at", ">=", since)
      .where("outcome", "=", "ok")
      .orderBy("model")
      .orderBy("latency_ms")
      .execute();
    const byModel = new Map<string, number[]>();
    for (const row of rows) {
      const list = byModel.get(row.model) ?? [];
      list.push(Number(row.latency_ms));
      byModel.set(row.model, list);
    }
    return byModel;
  }

  async requestCounts(since: string): Promise<RequestCountRow[]> {
    const rows = await this.#db
      .selectFrom("api_requests")
      .select([
        "endpoint",
        "category",
        "status",
        sql<number>`count(*)`.as("requests"),
        sql<number>`sum(cache_hit)`.as("cache_hits"),
      ])
      .where("at", ">=", since)
      .groupBy(["endpoint", "category", "status"])
      .execute();
    return rows.map((r) => ({
      endpoint: r.endpoint,
      category: r.category,
      status: Number(r.status),
      requests: Number(r.requests),
      cacheHits: Number(r.cache_hits),
    }));
  }

  async escalationCounts(since: string): Promise<Record<string, number>> {
    const rows = await this.#db
      .selectFrom("upstream_calls")
      .select(["escalation", sql<number>`count(*)`.as("answers")])
      .where("at", ">=", since)
      .where("escalation", "is not", null)
      .where("outcome", "in", ["ok", "cached"])
      .groupBy("escalation")
      .execute();
    return Object.fromEntries(rows.map((r) => [String(r.escalation), Number(r.answers)]));
  }

  async recordShadowSample(e: ShadowSampleEntry): Promise<void> {
    await this.#db
      .insertInto("shadow_samples")
      .values({
        at: e.at,
        request_id: e.requestId,
        session_id: e.sessionId,
        category: e.category,
        routed_role: e.routedRole,
        routed_model: e.routedModel,
        baseline_role: e.baselineRole,
        baseline_model: e.baselineModel,
        judge_model: e.judgeModel,
        status: e.status,
        verdict: e.verdict,
        reason: e.reason,
        routed_first: e.routedFirst === null ? null : e.routedFirst ? 1 : 0,
        error_code: e.errorCode,
        cost_usd: e.costUsd,
      })
      .execute();
  }

  async shadowSampleCounts(since: string): Promise<ShadowSampleCountRow[]> {
    const rows = await this.#db
      .selectFrom("shadow_samples")
      .select([
        "category",
        "routed_model",
        "status",
        "verdict",
        sql<number>`count(*)`.as("samples"),
        sql<number>`sum(cost_usd)`.as("cost_usd"),
      ])
      .where("at", ">=", since)
      .groupBy(["category", "routed_model", "status", "verdict"])
      .orderBy("routed_model")
      .execute();
    return rows.map((r) => ({
      category: r.category,
      routedModel: r.routed_model,
      status: r.status as ShadowSampleEntry["status"],
      verdict: r.verdict as ShadowSampleEntry["verdict"],
      samples: Number(r.samples),
      costUsd: Number(r.cost_usd),
    }));
  }

  async shadowVerdictsByMinute(since: string): Promise<ShadowVerdictRow[]> {
    // `at` is ISO 8601 text on both databases: its first 16 characters name the minute.
    const minute = sql<string>`substr(at, 1, 16)`;
    const rows = await this.#db
      .selectFrom("shadow_samples")
      .select([
        minute.as("minute"),
        "category",
        "routed_role",
        "verdict",
        sql<number>`count(*)`.as("samples"),
      ])
      .where("at", ">=", since)
      .where("status", "=", "judged")
      .where("verdict", "is not", null)
      .groupBy([minute, "category", "routed_role", "verdict"])
      .orderBy("minute")
      .execute();
    return rows.map((r) => ({
      minute: `${r.minute}:00.000Z`,
      category: r.category,
      routedRole: r.routed_role,
      verdict: r.verdict as ShadowVerdictRow["verdict"],
      samples: Number(r.samples),
    }));
  }

  async seriesRows(since: string, bucket: SeriesBucket): Promise<SeriesRows> {
    const key = bucketKey[bucket];
    const [calls, answered, requests, verdicts] = await Promise.all([
      this.#db
        .selectFrom("upstream_calls")
        .select([
          key.as("bucket"),
          "model",
          "shadow",
          sql<number>`count(*)`.as("calls"),
          sql<number>`sum(cost_usd)`.as("cost_usd"),
          sql<number>`sum(baseline_usd)`.as("baseline_usd"),
          sql<number>`sum(case when outcome = 'cached' then 1 else 0 end)`.as("cache_hits"),
          sql<number>`sum(case when escalation is not null and outcome in ('ok', 'cached') then 1 else 0 end)`.as(
            "escalations",
          ),
          sql<number>`sum(case when purpose = 'speculative' then 1 else 0 end)`.as("speculative_calls"),
          sql<number>`sum(case when purpose = 'speculative' then cost_usd else 0 end)`.as("speculative_usd"),
        ])
        .where("at", ">=", since)
        .groupBy([key, "model", "shadow"])
        .orderBy("bucket")
        .execute(),
      this.#db
        .selectFrom("upstream_calls")
        .select([key.as("bucket"), sql<number>`count(distinct request_id)`.as("requests")])
        .where("at", ">=", since)
        .where("shadow", "=", 0)
        // The calls the baseline prices: a page's warm-ups or a lone categorization answer nothing.
        .where("purpose", "not in", [...routingOverhead])
        .where("request_id", "is not", null)
        .groupBy(key)
        .orderBy("bucket")
        .execute(),
      this.#db
        .selectFrom("api_requests")
        .select([key.as("bucket"), "category", "route_rule", sql<number>`count(*)`.as("requests")])
        .where("at", ">=", since)
        .groupBy([key, "category", "route_rule"])
        .orderBy("bucket")
        .execute(),
      this.#db
        .selectFrom("shadow_samples")
        .select([key.as("bucket"), "verdict", sql<number>`count(*)`.as("samples")])
        .where("at", ">=", since)
        .where("status", "=", "judged")
        .where("verdict", "is not", null)
        .groupBy([key, "verdict"])
        .orderBy("bucket")
        .execute(),
    ]);
    return {
      calls: calls.map(
        (r): CallSeriesRow => ({
          bucket: r.bucket,
          model: r.model,
          shadow: Number(r.shadow) === 1,
          calls: Number(r.calls),
          costUsd: Number(r.cost_usd),
          baselineUsd: Number(r.baseline_usd),
          cacheHits: Number(r.cache_hits),
          escalations: Number(r.escalations),
          speculativeCalls: Number(r.speculative_calls),
          speculativeUsd: Number(r.speculative_usd),
        }),
      ),
      answered: answered.map((r) => ({ bucket: r.bucket, requests: Number(r.requests) })),
      requests: requests.map(
        (r): RequestSeriesRow => ({
          bucket: r.bucket,
          category: r.category,
          routeRule: r.route_rule,
          requests: Number(r.requests),
        }),
      ),
      verdicts: verdicts.map(
        (r): VerdictSeriesRow => ({
          bucket: r.bucket,
          verdict: r.verdict as VerdictSeriesRow["verdict"],
          samples: Number(r.samples),
        }),
      ),
    };
  }

  async earliestAt(): Promise<string | null> {
    // Each side's min(at) reads one end of its by-time index.
    const [calls, requests] = await Promise.all([
      this.#db.selectFrom("upstream_calls").select(sql<string | null>`min(at)`.as("at")).executeTakeFirst(),
      this.#db.selectFrom("api_requests").select(sql<string | null>`min(at)`.as("at")).executeTakeFirst(),
    ]);
    const times = [calls?.at, requests?.at].filter((at): at is string => typeof at === "string");
    return times.length === 0 ? null : (times.sort()[0] ?? null);
  }

  async speculationWaste(since: string): Promise<{ calls: number; costUsd: number; totalUsd: number }> {
    const row = await this.#db
      .selectFrom("upstream_calls")
      .select([
        sql<number | null>`sum(case when purpose = 'speculative' then 1 else 0 end)`.as("calls"),
        sql<number | null>`sum(case when purpose = 'speculative' then cost_usd else 0 end)`.as("wasted"),
        sql<number | null>`sum(cost_usd)`.as("total"),
      ])
      .where("at", ">=", since)
      .executeTakeFirst();
    return {
      calls: Number(row?.calls ?? 0),
      costUsd: Number(row?.wasted ?? 0),
      totalUsd: Number(row?.total ?? 0),
    };
  }

  // Scoped by client in the queries themselves: another client's rows are never read, so a client that
  // reuses someone else's request id sees only its own requests under it.
  async requestRecord(requestId: string, clientId: string | null): Promise<RequestRecord> {
    const [requestRows, callRows] = await Promise.all([
      this.#db
        .selectFrom("api_requests")
        .selectAll()
        .where("request_id", "=", requestId)
        .where((eb) => (clientId === null ? eb("client_id", "is", null) : eb("client_id", "=", clientId)))
        .orderBy("id", "desc")
        .execute(),
      this.#db
        .selectFrom("upstream_calls")
        .selectAll()
        .where("request_id", "=", requestId)
        .where((eb) => (clientId === null ? eb("client_id", "is", null) : eb("client_id", "=", clientId)))
        .orderBy("id")
        .execute(),
    ]);
    const runIds = [...new Set(requestRows.flatMap((r) => (r.workflow_id === null ? [] : [r.workflow_id])))];
    const runs =
      runIds.length === 0
        ? []
        : await this.#db
            .selectFrom("workflow_runs")
            .select(["id", "status"])
            .where("id", "in", runIds)
            .execute();
    return {
      requests: requestRows.map(requestEntry),
      calls: callRows.map(ledgerEntry),
      runs: runIds.flatMap((id) =>
        runs.filter((run) => run.id === id).map((run) => ({ id, status: run.status })),
      ),
    };
  }

  async shadowSpentUsd(since: string): Promise<number> {
    const row = await this.#db
      .selectFrom("upstream_calls")
      .select(sql<number | null>`sum(cost_usd)`.as("spent"))
      .where("at", ">=", since)
      .where("shadow", "=", 1)
      .executeTakeFirst();
    return Number(row?.spent ?? 0);
  }
}

function callRow(e: LedgerEntry) {
  return {
    at: e.at,
    request_id: e.requestId,
    endpoint: e.endpoint,
    session_id: e.sessionId,
    workflow_id: e.workflowId,
    category: e.category,
    purpose: e.purpose,
    kind: e.kind,
    role: e.role,
    model: e.model,
    provider: e.provider,
    outcome: e.outcome,
    error_code: e.errorCode ?? null,
    prompt_tokens: e.promptTokens,
    completion_tokens: e.completionTokens,
    reasoning_tokens: e.reasoningTokens ?? 0,
    cache_read_tokens: e.cacheReadTokens ?? 0,
    cache_write_tokens: e.cacheWriteTokens ?? 0,
    cache_saved_usd: e.cacheSavedUsd ?? 0,
    latency_ms: e.latencyMs,
    cost_usd: e.costUsd,
    cost_source: e.costSource,
    baseline_usd: e.baselineUsd,
    saved_usd: e.savedUsd ?? 0,
    escalation: e.escalation ?? null,
    shadow: e.shadow ? 1 : 0,
    client_id: e.clientId ?? null,
    route_rule: e.routeRule ?? null,
  };
}

function requestRow(e: RequestEntry): Row<typeof requestColumns> {
  return {
    at: e.at,
    request_id: e.requestId,
    method: e.method,
    endpoint: e.endpoint,
    status: e.status,
    category: e.category,
    latency_ms: e.latencyMs,
    cache_hit: e.cacheHit ? 1 : 0,
    session_id: e.sessionId,
    route_rule: e.routeRule ?? null,
    routing_trace: encodeTrace(e.routeTrace),
    client_id: e.clientId ?? null,
    workflow_id: e.workflowId ?? null,
  };
}

function requestEntry(r: Selectable<ApiRequestsTable>): RequestEntry {
  return {
    at: r.at,
    requestId: r.request_id,
    method: r.method,
    endpoint: r.endpoint,
    status: Number(r.status),
    category: r.category,
    latencyMs: Number(r.latency_ms),
    cacheHit: Number(r.cache_hit) === 1,
    sessionId: r.session_id,
    routeRule: r.route_rule,
    routeTrace: decodeTrace(r.routing_trace),
    clientId: r.client_id,
    workflowId: r.workflow_id,
  };
}

function ledgerEntry(r: Selectable<UpstreamCallsTable>): LedgerEntry {
  return {
    at: r.at,
    requestId: r.request_id,
    endpoint: r.endpoint,
    sessionId: r.session_id,
    workflowId: r.workflow_id,
    category: r.category,
    purpose: r.purpose as LedgerEntry["purpose"],
    kind: r.kind as LedgerEntry["kind"],
    role: r.role,
    model: r.model,
    provider: r.provider,
    outcome: r.outcome as CallOutcome,
    ...(r.error_code === null ? {} : { errorCode: r.error_code }),
    promptTokens: Number(r.prompt_tokens),
    completionTokens: Number(r.completion_tokens),
    reasoningTokens: Number(r.reasoning_tokens),
    cacheReadTokens: Number(r.cache_read_tokens),
    cacheWriteTokens: Number(r.cache_write_tokens),
    cacheSavedUsd: Number(r.cache_saved_usd),
    latencyMs: Number(r.latency_ms),
    costUsd: Number(r.cost_usd),
    costSource: r.cost_source as LedgerEntry["costSource"],
    baselineUsd: Number(r.baseline_usd),
    savedUsd: Number(r.saved_usd),
    escalation: r.escalation,
    shadow: Number(r.shadow) === 1,
    clientId: r.client_id,
    routeRule: r.route_rule,
  };
}
