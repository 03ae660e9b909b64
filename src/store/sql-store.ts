import { type ExpressionBuilder, type Kysely, type Selectable, sql, type Transaction } from "kysely";
import { Migrator } from "kysely/migration";
import type { Clock } from "../core/clock.ts";
import { GroupCommit } from "./group-commit.ts";
import { migrationProvider, type SqlDialectName } from "./migrations.ts";
import { runQueries } from "./run-queries.ts";
import type { DatabaseSchema, MessagesTable, SessionsTable, WorkflowRunsTable } from "./schema.ts";
import { sessionQueries } from "./session-queries.ts";
import { SqlUsageStore } from "./sql-usage-store.ts";
import type {
  ArtifactRecord,
  HistoryFold,
  MessagePage,
  NewMessage,
  NewRun,
  RunClaim,
  RunRecord,
  RunStatus,
  RunUpdate,
  SessionDeletion,
  SessionRecord,
  SessionState,
  Store,
  StoredMessage,
  TaskRecord,
  TaskStatus,
} from "./store.ts";
import type { LedgerEntry, UsageStore } from "./usage-store.ts";

// An arbitrary constant that names this service's migration lock among PostgreSQL's advisory locks.
export const migrationLockKey = 724_190_531;

async function migrate(db: Kysely<DatabaseSchema>, dialect: SqlDialectName): Promise<void> {
  // On PostgreSQL the migration bookkeeping lives in the connection's own schema (its search_path):
  // left unnamed, another schema's bookkeeping on the same server could be taken for this one's.
  const schema =
    dialect === "postgres"
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
      : undefined;
  const migrator = new Migrator({
    db,
    provider: migrationProvider(dialect),
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw new Error(`database migration failed: ${(error as Error).message ?? String(error)}`);
}

// One query layer over Kysely, whatever SQL database sits behind it.
export class SqlStore implements Store {
  readonly #db: Kysely<DatabaseSchema>;
  readonly #clock: Clock;
  readonly #queries: ReturnType<typeof runQueries>;
  readonly #sessionQueries: ReturnType<typeof sessionQueries>;
  readonly usage: UsageStore;
  readonly #usage: SqlUsageStore;
  // A conversation's turns (see appendMessages).
  readonly #turns: GroupCommit<Turn, undefined>;

  private constructor(db: Kysely<DatabaseSchema>, dialect: SqlDialectName, clock: Clock) {
    this.#db = db;
    this.#queries = runQueries(db, dialect);
    this.#sessionQueries = sessionQueries(dialect);
    this.#clock = clock;
    this.#usage = new SqlUsageStore(db, dialect);
    this.#turns = new GroupCommit({
      group: async (turns) => {
        await this.#db.transaction().execute((trx) => this.#writeTurns(trx, turns));
        return turns.map(() => undefined);
      },
      keys: (turn) => [turn.sessionId],
    });
    this.usage = this.#usage;
  }

  static async open(db: Kysely<DatabaseSchema>, dialect: SqlDialectName, clock: Clock): Promise<SqlStore> {
    if (dialect === "postgres") {
      // Replicas and workers may start together against a new database: one migrates at a time, on one
      // connection holding an advisory lock, and the others then find nothing left to do.
      await db.connection().execute(async (connection) => {
        await sql`select pg_advisory_lock(${migrationLockKey})`.execute(connection);
        try {
          await migrate(connection, dialect);
        } finally {
          await sql`select pg_advisory_unlock(${migrationLockKey})`.execute(connection);
        }
      });
    } else {
      await migrate(db, dialect);
    }
    return new SqlStore(db, dialect, clock);
  }

  async getSession(id: string): Promise<SessionState | undefined> {
    const row = await this.#db.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirst();
    return row && toSessionState(row);
  }

  async ensureSession(id: string): Promise<SessionRecord> {
    await this.#sessionQueries.touchSessions(this.#db, [this.#sessionRow(id)]);
    const session = await this.getSession(id);
    if (!session) throw new Error(`session ${id} vanished right after being created`);
    return { id: session.id, createdAt: session.createdAt, updatedAt: session.updatedAt };
  }

  async listMessages(sessionId: string, page?: MessagePage): Promise<StoredMessage[]> {
    if (!page) {
      const rows = await this.#db
        .selectFrom("messages")
        .selectAll()
        .where("session_id", "=", sessionId)
        .orderBy("id")
        .execute();
      return rows.map(toMessage);
    }
    let query = this.#db.selectFrom("messages").selectAll().where("session_id", "=", sessionId);
    if (page.before !== undefined) query = query.where("id", "<", page.before);
    const rows = await query.orderBy("id", "desc").limit(page.limit).execute();
    return rows.reverse().map(toMessage);
  }

  async listMessagesFrom(sessionId: string, fromId: number): Promise<StoredMessage[]> {
    const rows = await this.#db
      .selectFrom("messages")
      .selectAll()
      .where("session_id", "=", sessionId)
      .where("id", ">=", fromId)
      .orderBy("id")
      .execute();
    return rows.map(toMessage);
  }

  async foldHistory(sessionId: string, fold: HistoryFold): Promise<boolean> {
    const result = await this.#db
      .updateTable("sessions")
      .set((eb) => ({
        window_start: fold.windowStart,
        window_tokens: eb("window_tokens", "-", fold.foldedTokens),
        summarized_messages: eb("summarized_messages", "+", fold.foldedMessages),
        ...(fold.summary ? { summary: fold.summary.text, summary_tokens: fold.summary.tokens } : {}),
      }))
      .where("id", "=", sessionId)
      .where("window_start", "=", fold.expectedWindowStart)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  // One statement each: the messages go with their session (on delete cascade, in both databases), so there is
  // no read-then-write transaction for two instances sweeping at once to trip over.
  async deleteSession(id: string): Promise<SessionDeletion> {
    const deleted = await this.#db
      .deleteFrom("sessions")
      .where("id", "=", id)
      .where("id", "not in", this.#sessionsWithRunningRuns())
      .executeTakeFirst();
    if (Number(deleted.numDeletedRows) > 0) return "deleted";
    return (await this.getSession(id)) ? "running" : "not_found";
  }

  async deleteIdleSessions(idleBefore: string, limit: number): Promise<number> {
    const idle = this.#db
      .selectFrom("sessions")
      .select("id")
      .where("updated_at", "<", idleBefore)
      .where("id", "not in", this.#sessionsWithRunningRuns())
      .orderBy("updated_at")
      .limit(limit);
    const deleted = await this.#db.deleteFrom("sessions").where("id", "in", idle).executeTakeFirst();
    return Number(deleted.numDeletedRows);
  }

  #sessionsWithRunningRuns() {
    return this.#db
      .selectFrom("workflow_runs")
      .select("session_id")
      .where("status", "=", "running")
      .where("session_id", "is not", null);
  }

  // Turns of conversations commit in groups (see group-commit.ts): the answers of concurrent requests arrive
  // together, and each turn written on its own held up every answer read after it, several times its own
  // cost in latency. A turn is still stored before appendMessages resolves, so before its response leaves.
  async appendMessages(sessionId: string, messages: readonly NewMessage[]): Promise<void> {
    await this.#turns.write({ sessionId, messages });
  }

  async createRun(run: NewRun, sessionMessages: readonly NewMessage[] = []): Promise<RunRecord> {
    const now = this.#clock.isoNow();
    const row: Selectable<WorkflowRunsTable> = {
      id: run.id,
      session_id: run.sessionId,
      kind: run.kind,
      status: "running",
      request: JSON.stringify(run.request),
      result: null,
      error: null,
      model: null,
      usage: null,
      created_at: now,
      updated_at: now,
      finished_at: null,
      workflow: run.workflow === undefined ? null : JSON.stringify(run.workflow),
      attempt: run.claim?.attempt ?? null,
      owner: run.owner ?? null,
      lease_owner: run.claim?.leaseOwner ?? null,
      lease_expires_at: run.claim?.leaseExpiresAt ?? null,
      recoveries: 0,
      estimate_usd: run.estimateUsd ?? null,
    };
    if (!run.sessionId || sessionMessages.length === 0) {
      await this.#db.executeQuery(this.#queries.insertRun(row));
      return toRun(row);
    }
    const sessionId = run.sessionId;
    await this.#db.transaction().execute(async (trx) => {
      await trx.executeQuery(this.#queries.insertRun(row));
      await this.#writeTurns(trx, [{ sessionId, messages: sessionMessages }]);
    });
    return toRun(row);
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const [row] = (await this.#db.executeQuery(this.#queries.getRun({ id }))).rows;
    return row && toRun(row);
  }

  async finishRun(
    id: string,
    update: RunUpdate,
    sessionMessages: readonly NewMessage[] = [],
    attempt?: string | null,
  ): Promise<boolean> {
    const now = this.#clock.isoNow();
    return this.#db.transaction().execute(async (trx) => {
      let query = trx
        .updateTable("workflow_runs")
        .set({
          status: update.status,
          result: update.result ?? null,
          error: update.error ? JSON.stringify(update.error) : null,
          model: update.model ?? null,
          usage: update.usage ? JSON.stringify(update.usage) : null,
          updated_at: now,
          finished_at: update.status === "running" ? null : now,
          lease_owner: null,
          lease_expires_at: null,
        })
        .where("id", "=", id)
        .where("status", "=", "running");
      if (attempt !== undefined) query = query.where(attemptIs(attempt));
      const run = await query.returning(["session_id"]).executeTakeFirst();
      if (!run) return false;
      await endRunningTasks(trx, id, update.status, now);
      if (run.session_id && sessionMessages.length > 0) {
        await this.#writeTurns(trx, [{ sessionId: run.session_id, messages: sessionMessages }]);
      }
      return true;
    });
  }

  async claimRun(id: string, claim: RunClaim): Promise<boolean> {
    let query = this.#db
      .updateTable("workflow_runs")
      .set((eb) => ({
        attempt: claim.attempt,
        lease_owner: claim.leaseOwner,
        lease_expires_at: claim.leaseExpiresAt,
        updated_at: this.#clock.isoNow(),
        // A lease that was given up (no owner left) is taken over without counting a recovery.
        ...(claim.recoveringAt
          ? {
              recoveries: eb(
                "recoveries",
                "+",
                eb.case().when("lease_owner", "is", null).then(0).else(1).end(),
              ),
            }
          : {}),
      }))
      .where("id", "=", id)
      .where("status", "=", "running")
      .where(attemptIs(claim.expectedAttempt));
    const recoveringAt = claim.recoveringAt;
    if (recoveringAt) {
      query = query.where((eb) =>
        eb.or([eb("lease_expires_at", "is", null), eb("lease_expires_at", "<", recoveringAt)]),
      );
    }
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async renewLeases(leaseOwner: string, leaseExpiresAt: string, runIds: readonly string[]): Promise<void> {
    if (runIds.length === 0) return;
    await this.#db
      .updateTable("workflow_runs")
      .set({ lease_expires_at: leaseExpiresAt })
      .where("lease_owner", "=", leaseOwner)
      .where("status", "=", "running")
      .where("id", "in", runIds)
      .execute();
  }

  async releaseLeases(leaseOwner: string, runIds: readonly string[]): Promise<void> {
    if (runIds.length === 0) return;
    await this.#db
      .updateTable("workflow_runs")
      .set({ lease_owner: null, lease_expires_at: this.#clock.isoNow() })
      .where("lease_owner", "=", leaseOwner)
      .where("status", "=", "running")
      .where("id", "in", runIds)
      .execute();
  }

  async listOrphanedRuns(now: string, unclaimedBefore: string, limit: number): Promise<RunRecord[]> {
    const rows = await this.#db
      .selectFrom("workflow_runs")
      .selectAll()
      .where("status", "=", "running")
      .where((eb) => orphaned(eb, now, unclaimedBefore))
      .orderBy("updated_at")
      .limit(limit)
      .execute();
    return rows.map(toRun);
  }

  async countRunning(): Promise<number> {
    const row = await this.#db
      .selectFrom("workflow_runs")
      .select(sql<number>`count(*)`.as("running"))
      .where("status", "=", "running")
      .executeTakeFirst();
    return Number(row?.running ?? 0);
  }

  async setRunEstimate(id: string, estimateUsd: number): Promise<void> {
    await this.#db
      .updateTable("workflow_runs")
      .set({ estimate_usd: estimateUsd })
      .where("id", "=", id)
      .execute();
  }

  async setRunWorkflow(id: string, workflow: unknown, attempt?: string | null): Promise<boolean> {
    let query = this.#db
      .updateTable("workflow_runs")
      .set({ workflow: JSON.stringify(workflow), updated_at: this.#clock.isoNow() })
      .where("id", "=", id);
    if (attempt !== undefined) query = query.where(attemptIs(attempt));
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async reopenRun(id: string): Promise<boolean> {
    const result = await this.#db
      .updateTable("workflow_runs")
      .set({
        status: "running",
        error: null,
        result: null,
        finished_at: null,
        updated_at: this.#clock.isoNow(),
      })
      .where("id", "=", id)
      .where("status", "!=", "running")
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async saveTask(task: TaskRecord, calls: readonly LedgerEntry[] = []): Promise<boolean> {
    const [saved] = await this.saveTasks([task], calls);
    return saved === true;
  }

  async saveTasks(tasks: readonly TaskRecord[], calls: readonly LedgerEntry[] = []): Promise<boolean[]> {
    return this.#db.transaction().execute(async (trx) => {
      await this.#usage.recordCallsIn(trx, calls);
      // Each run's row is read once, however many of its tasks are written.
      const runs = new Map<string, { attempt: string | null; status: string } | undefined>();
      const saved: boolean[] = [];
      for (const task of tasks) {
        const attempt = task.attempt;
        if (attempt != null) {
          if (!runs.has(task.runId)) {
            const fence = await trx.executeQuery(this.#queries.runFence({ id: task.runId }));
            runs.set(task.runId, fence.rows[0]);
          }
          const run = runs.get(task.runId);
          if (run?.attempt !== attempt || (task.status === "running" && run.status !== "running")) {
            saved.push(false);
            continue;
          }
        }
        const result = await trx.executeQuery(this.#queries.upsertTask(taskRow(task)));
        saved.push(Number(result.numAffectedRows ?? 0) > 0);
      }
      return saved;
    });
  }

  async listTasks(runId: string): Promise<TaskRecord[]> {
    const { rows } = await this.#db.executeQuery(this.#queries.listTasks({ runId }));
    return rows.map((row) => ({
      runId: row.run_id,
      stage: row.stage,
      index: row.task_index,
      role: row.role,
      model: row.model,
      outputVariable: row.output_variable,
      status: row.status as TaskStatus,
      output: row.output,
      error: row.error === null ? null : JSON.parse(row.error),
      usage: row.usage === null ? null : JSON.parse(row.usage),
      worker: row.worker,
      attempt: row.attempt,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
    }));
  }

  async saveArtifact(artifact: Omit<ArtifactRecord, "createdAt">): Promise<ArtifactRecord> {
    const createdAt = this.#clock.isoNow();
    await this.#db
      .insertInto("artifacts")
      .values({
        id: artifact.id,
        run_id: artifact.runId,
        owner: artifact.owner ?? null,
        content_type: artifact.contentType,
        data: artifact.data,
        simulated: artifact.simulated ? 1 : 0,
        created_at: createdAt,
      })
      .execute();
    return { ...artifact, createdAt };
  }

  async getArtifact(id: string): Promise<ArtifactRecord | undefined> {
    const row = await this.#db.selectFrom("artifacts").selectAll().where("id", "=", id).executeTakeFirst();
    return (
      row && {
        id: row.id,
        runId: row.run_id,
        owner: row.owner,
        contentType: row.content_type,
        data: row.data,
        simulated: row.simulated === 1,
        createdAt: row.created_at,
      }
    );
  }

  async close(): Promise<void> {
    await this.#db.destroy();
  }

  #sessionRow(id: string, now: string = this.#clock.isoNow(), messages: readonly NewMessage[] = []) {
    const tokens = messages.reduce((sum, m) => sum + m.tokens, 0);
    return {
      id,
      created_at: now,
      updated_at: now,
      message_count: messages.length,
      total_tokens: tokens,
      window_tokens: tokens,
    };
  }

  // Turns of one or more sessions in the caller's transaction: each session created or marked as used now,
  // in one statement, then every message in the order given, in another.
  async #writeTurns(trx: Transaction<DatabaseSchema>, turns: readonly Turn[]): Promise<void> {
    const now = this.#clock.isoNow();
    const sessions = new Map<string, NewMessage[]>();
    for (const turn of turns)
      sessions.set(turn.sessionId, [...(sessions.get(turn.sessionId) ?? []), ...turn.messages]);
    await this.#sessionQueries.touchSessions.inTransaction(
      trx,
      [...sessions].map(([id, messages]) => this.#sessionRow(id, now, messages)),
    );
    await this.#sessionQueries.insertMessages.inTransaction(
      trx,
      turns.flatMap((turn) => turn.messages.map((m) => messageRow(turn.sessionId, m, now))),
    );
  }
}

interface Turn {
  readonly sessionId: string;
  readonly messages: readonly NewMessage[];
}

function messageRow(sessionId: string, m: NewMessage, now: string) {
  return {
    session_id: sessionId,
    role: m.role,
    content: m.content,
    tokens: m.tokens,
    image_count: m.imageCount ?? 0,
    category: m.category ?? null,
    model: m.model ?? null,
    provider: m.provider ?? null,
    workflow_id: m.workflowId ?? null,
    created_at: now,
  };
}

function toSessionState(row: Selectable<SessionsTable>): SessionState {
  return {
    id: row.id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    messageCount: Number(row.message_count),
    totalTokens: Number(row.total_tokens),
    windowStart: Number(row.window_start),
    windowTokens: Number(row.window_tokens),
    summary: row.summary,
    summaryTokens: Number(row.summary_tokens),
    summarizedMessages: Number(row.summarized_messages),
  };
}

function toMessage(row: Selectable<MessagesTable>): StoredMessage {
  return {
    id: row.id,
    sessionId: row.session_id,
    role: row.role === "assistant" ? "assistant" : "user",
    content: row.content,
    tokens: row.tokens,
    imageCount: row.image_count,
    createdAt: row.created_at,
    ...(row.category === null ? {} : { category: row.category }),
    ...(row.model === null ? {} : { model: row.model }),
    ...(row.provider === null ? {} : { provider: row.provider }),
    ...(row.workflow_id === null ? {} : { workflowId: row.workflow_id }),
  };
}

function toRun(row: Selectable<WorkflowRunsTable>): RunRecord {
  return {
    id: row.id,
    sessionId: row.session_id,
    kind: row.kind,
    status: row.status as RunStatus,
    request: JSON.parse(row.request),
    result: row.result,
    error: row.error === null ? null : JSON.parse(row.error),
    model: row.model,
    usage: row.usage === null ? null : JSON.parse(row.usage),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
    workflow: row.workflow === null ? null : JSON.parse(row.workflow),
    attempt: row.attempt,
    owner: row.owner,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at,
    recoveries: Number(row.recoveries),
    estimateUsd: row.estimate_usd,
  };
}

function attemptIs(attempt: string | null) {
  return (eb: ExpressionBuilder<DatabaseSchema, "workflow_runs">) =>
    attempt === null ? eb("attempt", "is", null) : eb("attempt", "=", attempt);
}

// No lease, or an expired one: the driver is gone. A run that never had a lease (created just now, its
// claim under way, or left by an older version) counts only once a lease would have expired.
function orphaned(
  eb: ExpressionBuilder<DatabaseSchema, "workflow_runs">,
  now: string,
  unclaimedBefore: string,
) {
  return eb.or([
    eb("lease_expires_at", "<", now),
    eb.and([eb("lease_expires_at", "is", null), eb("updated_at", "<", unclaimedBefore)]),
  ]);
}

// A run that ends takes its running tasks with it: nothing is left "running" under a run that is not.
async function endRunningTasks(
  trx: Transaction<DatabaseSchema>,
  runId: string,
  status: RunStatus,
  now: string,
) {
  const error = {
    type: "logical",
    code: status === "cancelled" ? "cancelled" : "run_ended",
    message: `the workflow ended (${status}) while this task was running`,
  };
  await trx
    .updateTable("workflow_tasks")
    .set({
      status: (status === "cancelled" ? "cancelled" : "failed") satisfies TaskStatus,
      error: JSON.stringify(error),
      finished_at: now,
    })
    .where("run_id", "=", runId)
    .where("status", "=", "running")
    .execute();
}

function taskRow(task: TaskRecord) {
  return {
    run_id: task.runId,
    stage: task.stage,
    task_index: task.index,
    role: task.role,
    model: task.model,
    output_variable: task.outputVariable,
    status: task.status,
    output: task.output,
    error: task.error ? JSON.stringify(task.error) : null,
    usage: task.usage ? JSON.stringify(task.usage) : null,
    started_at: task.startedAt,
    finished_at: task.finishedAt,
    worker: task.worker ?? null,
    attempt: task.attempt ?? null,
  };
}
