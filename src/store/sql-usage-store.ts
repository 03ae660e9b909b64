import { type Kysely, sql } from "kysely";
import type { CallOutcome } from "../telemetry/upstream-call.ts";
import type { DatabaseSchema } from "./schema.ts";
import type { LedgerEntry, ModelUsageRow, RequestCountRow, RequestEntry, UsageStore } from "./usage-store.ts";

// Rows per INSERT statement: well under SQLite's limit on bound parameters.
const batchSize = 40;

export class SqlUsageStore implements UsageStore {
  readonly #db: Kysely<DatabaseSchema>;

  constructor(db: Kysely<DatabaseSchema>) {
    this.#db = db;
  }

  async recordCalls(entries: readonly LedgerEntry[]): Promise<void> {
    const rows = entries.map((e) => ({
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
      latency_ms: e.latencyMs,
      cost_usd: e.costUsd,
      cost_source: e.costSource,
      baseline_usd: e.baselineUsd,
      saved_usd: e.savedUsd ?? 0,
      escalation: e.escalation ?? null,
    }));
    await this.#db.transaction().execute(async (trx) => {
      for (const batch of batches(rows)) await trx.insertInto("upstream_calls").values(batch).execute();
    });
  }

  async recordRequests(entries: readonly RequestEntry[]): Promise<void> {
    const rows = entries.map((e) => ({
      at: e.at,
      request_id: e.requestId,
      method: e.method,
      endpoint: e.endpoint,
      status: e.status,
      category: e.category,
      latency_ms: e.latencyMs,
      cache_hit: e.cacheHit ? 1 : 0,
      session_id: e.sessionId,
    }));
    await this.#db.transaction().execute(async (trx) => {
      for (const batch of batches(rows)) await trx.insertInto("api_requests").values(batch).execute();
    });
  }

  async spentUsd(filter: { readonly since?: string; readonly sessionId?: string }): Promise<number> {
    let query = this.#db.selectFrom("upstream_calls").select(sql<number | null>`sum(cost_usd)`.as("spent"));
    if (filter.since !== undefined) query = query.where("at", ">=", filter.since);
    if (filter.sessionId !== undefined) query = query.where("session_id", "=", filter.sessionId);
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
        sql<number>`sum(cost_usd)`.as("cost_usd"),
        sql<number>`sum(baseline_usd)`.as("baseline_usd"),
        sql<number>`sum(saved_usd)`.as("saved_usd"),
      ])
      .where("at", ">=", since)
      .groupBy(["model", "role", "outcome"])
      .orderBy("model")
      .execute();
    return rows.map((r) => ({
      model: r.model,
      role: r.role,
      outcome: r.outcome as CallOutcome,
      calls: Number(r.calls),
      promptTokens: Number(r.prompt_tokens),
      completionTokens: Number(r.completion_tokens),
      costUsd: Number(r.cost_usd),
      baselineUsd: Number(r.baseline_usd),
      savedUsd: Number(r.saved_usd),
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
}

function* batches<Row>(rows: readonly Row[]): Generator<Row[]> {
  for (let i = 0; i < rows.length; i += batchSize) yield rows.slice(i, i + batchSize);
}
