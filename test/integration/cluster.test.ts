import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { type FakeOpenRouter, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { eventually } from "../support/eventually.ts";
import { lastUserText, orchestrationResponder, workerResponder } from "../support/responders.ts";
import { clusterSkipReason, freshPostgresSchema, postgresUrl, redisUrl } from "../support/services.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

const mainWorker = new URL("../../src/worker.ts", import.meta.url).pathname;

interface WorkerProcess {
  readonly child: ChildProcess;
  readonly output: string[];
}

const task = (model: string, prompt: string, output: string) => ({ model, prompt, output_variable: output });

// An API process (in this test process) and worker processes (spawned, as `npm run worker` runs them) sharing
// one PostgreSQL schema and one Redis key prefix, against the fake upstream.
describe("cluster: PostgreSQL store and BullMQ workers on Redis", {
  skip: postgresUrl && redisUrl ? false : clusterSkipReason,
}, () => {
  let fake: FakeOpenRouter;
  let api: TestApp;
  let schema: Awaited<ReturnType<typeof freshPostgresSchema>>;
  let dir: string;
  let configFile: string;
  const workers: WorkerProcess[] = [];
  const cluster = {
    keyPrefix: `test-${randomUUID().slice(0, 8)}`,
    workerConcurrency: 1,
  };

  const startWorker = (): WorkerProcess => {
    const output: string[] = [];
    const child = spawn(
      process.execPath,
      ["--experimental-strip-types", "--disable-warning=ExperimentalWarning", mainWorker],
      {
        env: {
          PATH: process.env.PATH ?? "",
          DATABASE_URL: schema.url,
          REDIS_URL: redisUrl ?? "",
          OPENROUTER_API_KEY: fake.apiKey,
          OPENROUTER_BASE_URL: fake.baseUrl,
          ORCHESTRATION_CONFIG: configFile,
          LOG_LEVEL: "INFO",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    child.stdout?.on("data", (chunk: Buffer) => output.push(String(chunk)));
    child.stderr?.on("data", (chunk: Buffer) => output.push(String(chunk)));
    const worker = { child, output };
    workers.push(worker);
    return worker;
  };

  before(async () => {
    fake = await startFakeOpenRouter();
    schema = await freshPostgresSchema();
    dir = mkdtempSync(join(tmpdir(), "cluster-"));
    configFile = join(dir, "config.json");
    writeFileSync(
      configFile,
      JSON.stringify({ cluster, errorHandling: { retry: { baseDelayMs: 1, maxDelayMs: 4 } } }),
    );
    api = await startTestApp({ fake, databaseUrl: schema.url, redisUrl, config: { cluster } });
    startWorker();
    startWorker();
    await eventually(
      "both workers to join the cluster",
      async () => {
        const stats = await api.get("/stats");
        return stats.body.cluster?.workers.length === 2 ? true : undefined;
      },
      { timeoutMs: 60_000 },
    );
  });

  after(async () => {
    for (const worker of workers) worker.child.kill("SIGKILL");
    await api?.close();
    await fake?.close();
    await schema?.drop();
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  beforeEach(() => {
    fake.clear();
    fake.respondWith(workerResponder);
  });

  it("runs one workflow's tasks on both workers, in stage order, and stores them in PostgreSQL", async () => {
    const res = await api.post("/workflow", {
      workflow: [
        {
          type: "linear",
          tasks: Array.from({ length: 6 }, (_, i) =>
            task("medium_ai", `part ${i} of {topic} [wait 200]`, `part${i}`),
          ),
        },
        {
          type: "inline",
          tasks: [
            task("medium_ai", "join {part0} and {part5}", "joined"),
            task("medium_ai", "polish {joined}", "final"),
          ],
        },
      ],
      variables: { topic: "tides" },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, "completed", JSON.stringify(res.body.error));
    assert.match(res.body.outputs.final, /^done: polish done: join done: part 0 of tides/);
    const workersUsed = new Set(res.body.tasks.map((t: { worker: string }) => t.worker));
    assert.equal(workersUsed.size, 2, `tasks ran on ${[...workersUsed].join(", ")}`);
    // The inline stage started only after the whole linear stage had answered.
    const times = fake.requests.map((r) => ({ prompt: lastUserText(r), at: r.receivedAt }));
    const lastPart = Math.max(...times.filter((t) => t.prompt.startsWith("part")).map((t) => t.at));
    const join = times.find((t) => t.prompt.startsWith("join"));
    assert.ok(join && join.at >= lastPart + 150, "the join waited for the parts");

    // Workers write their ledger rows off the task's path: the last one may land just after the run ends.
    const stats = await eventually(
      "the cost in /stats",
      async () => {
        const res = await api.get("/stats");
        return res.body.cost.total_usd === 0.008 ? res : undefined;
      },
      { timeoutMs: 30_000 },
    );
    assert.equal(stats.body.cluster.workers.length, 2);
    assert.equal(stats.body.cost.total_usd, 0.008, "the workers' ledger rows are in the shared database");
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    assert.match(metrics, /^orchestrator_queue_workers 2$/m);
    assert.match(metrics, /^orchestrator_queue_jobs\{state="waiting"\} \d+$/m);
  });

  it("finishes a workflow whose worker is killed mid-task, without running any finished task again", async () => {
    const res = await api.post("/workflow", {
      async: true,
      workflow: [
        { type: "linear", tasks: [task("medium_ai", "first a", "a"), task("medium_ai", "first b", "b")] },
        {
          type: "inline",
          tasks: [
            task("medium_ai", "slow on {a} [wait 2500]", "slow"),
            task("medium_ai", "after {slow}", "after"),
          ],
        },
      ],
    });
    assert.equal(res.status, 202);
    const id = res.body.workflow_id;
    const running = await eventually(
      "the slow task's call",
      async () => {
        const record = await api.get(`/workflow/${id}`);
        const slow = record.body.tasks.find((t: { output_variable: string }) => t.output_variable === "slow");
        // Running, and its call has reached the upstream: the crash cuts off work in flight.
        const sent = fake.requests.some((r) => lastUserText(r).startsWith("slow on"));
        return slow?.status === "running" && sent ? slow : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const pid = Number(String(running.worker).split(":").at(-1));
    const victim = workers.find((w) => w.child.pid === pid);
    assert.ok(victim, `the slow task runs on one of our workers (${running.worker})`);
    victim.child.kill("SIGKILL");

    await api.app.workflows.waitFor(id);
    const record = await api.get(`/workflow/${id}`);
    assert.equal(record.body.status, "completed", JSON.stringify(record.body.error));
    assert.deepEqual(Object.keys(record.body.outputs).sort(), ["a", "after", "b", "slow"]);
    const count = (start: string) => fake.requests.filter((r) => lastUserText(r).startsWith(start)).length;
    assert.equal(count("first a"), 1, "finished before the crash: not run again");
    assert.equal(count("first b"), 1);
    assert.equal(count("slow on"), 2, "cut off by the crash: run again on the other worker");
    assert.equal(count("after"), 1);
    const slowTask = record.body.tasks.find((t: { output_variable: string }) => t.output_variable === "slow");
    assert.notEqual(slowTask.worker, running.worker, "the other worker finished it");
  });
  it("cancels a workflow running on a worker (its call aborted, nothing after it started), then resumes it", async () => {
    const res = await api.post("/workflow", {
      async: true,
      workflow: [
        {
          type: "inline",
          tasks: [task("medium_ai", "long [wait 2500]", "long"), task("medium_ai", "next {long}", "next")],
        },
      ],
    });
    const id = res.body.workflow_id;
    await eventually(
      "the first task to run",
      async () => {
        const record = await api.get(`/workflow/${id}`);
        return record.body.tasks[0].status === "running" ? true : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const cancelled = await api.delete(`/workflow/${id}`);
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, "cancelled");
    const task0 = await eventually(
      "the first task's cancellation",
      async () => {
        const record = await api.get(`/workflow/${id}`);
        return record.body.tasks[0].status === "cancelled" ? record.body.tasks : undefined;
      },
      { timeoutMs: 30_000 },
    );
    assert.equal(task0[1].status, "waiting");
    assert.equal(fake.requests.filter((r) => lastUserText(r).startsWith("next")).length, 0);

    // Resumed, it runs again from the cancelled task: a new attempt, which the old jobs do not disturb.
    const resumed = await api.post(`/workflow/${id}/resume`, {});
    assert.equal(resumed.status, 202);
    await api.app.workflows.waitFor(id);
    const record = await api.get(`/workflow/${id}`);
    assert.equal(record.body.status, "completed", JSON.stringify(record.body.error));
    const count = (start: string) => fake.requests.filter((r) => lastUserText(r).startsWith(start)).length;
    assert.equal(count("long"), 2);
    assert.equal(count("next"), 1);
  });

  it("plans, runs and answers an H request on the workers, and posts the answer to the session", async () => {
    fake.respondWith(orchestrationResponder({ finalAnswer: "THE CLUSTER ANSWER" }));
    const chat = await api.post("/chat", { message: "Plan a launch with copy and visuals" });
    assert.equal(chat.body.category, "H");
    await api.app.workflows.waitFor(chat.body.workflow_id);
    const run = await api.get(`/workflow/${chat.body.workflow_id}`);
    assert.equal(run.body.status, "completed", JSON.stringify(run.body.error));
    assert.equal(run.body.result, "THE CLUSTER ANSWER");
    assert.ok(
      run.body.tasks.every((t: { worker: string }) =>
        workers.some((w) => t.worker.endsWith(`:${w.child.pid}`)),
      ),
    );
    const session = await api.get(`/sessions/${chat.body.session_id}`);
    assert.equal(session.body.messages.at(-1).content, "THE CLUSTER ANSWER");
  });
});

describe("cluster: API replicas share state through Redis", {
  skip: postgresUrl && redisUrl ? false : clusterSkipReason,
}, () => {
  let fake: FakeOpenRouter;
  let schema: Awaited<ReturnType<typeof freshPostgresSchema>>;
  let replicas: TestApp[];
  const medium = "meta-llama/llama-3.3-70b-instruct";
  const ask = (replica: TestApp, content: string, extra: Record<string, unknown> = {}) =>
    replica.post("/v1/chat/completions", {
      model: "medium_ai",
      messages: [{ role: "user", content }],
      ...extra,
    });

  before(async () => {
    fake = await startFakeOpenRouter();
    schema = await freshPostgresSchema();
    const config = {
      cluster: { keyPrefix: `test-${randomUUID().slice(0, 8)}` },
      models: { medium_ai: { fallbacks: [] } },
      errorHandling: {
        circuitBreaker: { failureThreshold: 2 },
        retry: { maxAttempts: { transient: 1 } },
        // Far above what an answered call takes on a busy machine, far below the rate limit's minute.
        callDeadlineMs: 15_000,
      },
      rateLimits: { upstream: { models: { [medium]: { requestsPerMinute: 3 } } } },
    };
    // One at a time, so the one started is closed even if the other fails to start.
    replicas = [];
    replicas.push(await startTestApp({ fake, databaseUrl: schema.url, redisUrl, config }));
    replicas.push(await startTestApp({ fake, databaseUrl: schema.url, redisUrl, config }));
  });
  after(async () => {
    for (const replica of replicas ?? []) await replica.close();
    await fake?.close();
    await schema?.drop();
  });

  it("answers from one shared cache and counts one shared upstream budget", async () => {
    const [a, b] = replicas as [TestApp, TestApp];
    fake.respondWith(() => ({ kind: "text", content: "cached answer" }));
    await ask(a, "same question", { temperature: 0 });
    const fromCache = await ask(b, "same question", { temperature: 0 });
    assert.equal(fromCache.headers.get("x-cache"), "HIT", "B answered from the answer A stored");
    assert.equal(fake.requests.length, 1);

    // The rate limit (3 a minute) is one budget: A's 1 call and B's 2 leave none for A.
    await ask(b, "second");
    await ask(b, "third");
    const limited = await ask(a, "fourth");
    assert.equal(limited.status, 503);
    assert.equal(limited.body.error.code, "upstream_rate_limit");
    assert.equal(fake.requests.length, 3);
  });

  it("opens a model's circuit on every replica when one replica sees it fail", async () => {
    const [a, b] = replicas as [TestApp, TestApp];
    const fast = "openai/gpt-oss-safeguard-20b";
    fake.clear();
    fake.respondWith(() => ({ kind: "error", status: 500, message: "upstream broke" }));
    const call = (replica: TestApp) =>
      replica.post("/v1/chat/completions", { model: "fast_ai", messages: [{ role: "user", content: "hi" }] });
    assert.equal((await call(a)).status, 502);
    assert.equal((await call(a)).status, 502);
    const seen = await eventually(
      "the circuit to open on the other instance",
      async () => {
        const stats = await b.get("/stats");
        const circuit = stats.body.circuits.find((c: { model: string }) => c.model === fast);
        return circuit?.state === "open" ? circuit : undefined;
      },
      { timeoutMs: 30_000 },
    );
    assert.equal(seen.state, "open");
    const before = fake.requests.length;
    const refused = await call(b);
    assert.equal(refused.status, 503);
    assert.match(refused.body.error.message, /circuit is open/);
    assert.equal(fake.requests.length, before, "B did not call the failing model");
  });
  it("draws on one daily budget from every replica", async () => {
    const config = {
      cluster: { keyPrefix: `test-${randomUUID().slice(0, 8)}` },
      budgets: { perDayUsd: 0.0005 },
      // A small output limit keeps each call's reserved worst case below the tiny budget.
      models: { fast_ai: { maxOutputTokens: 16 } },
    };
    const spendSchema = await freshPostgresSchema();
    // Started one at a time inside the try: whichever started is closed even if the other fails to start
    // (an open replica keeps its Redis and PostgreSQL connections, and the test file, alive).
    const started: TestApp[] = [];
    try {
      started.push(await startTestApp({ fake, databaseUrl: spendSchema.url, redisUrl, config }));
      started.push(await startTestApp({ fake, databaseUrl: spendSchema.url, redisUrl, config }));
      const [a, b] = started as [TestApp, TestApp];
      fake.respondWith(() => ({ kind: "text", content: "paid", cost: 0.0002 }));
      const spend = (replica: TestApp, content: string) =>
        replica.post("/v1/chat/completions", { model: "fast_ai", messages: [{ role: "user", content }] });
      assert.equal((await spend(a, "one")).status, 200);
      assert.equal((await spend(b, "two")).status, 200);
      assert.equal((await spend(a, "three")).status, 200);
      // $0.0006 spent across the two replicas: both now refuse.
      const refused = await eventually(
        "the other instance to refuse the spend",
        async () => {
          const res = await spend(b, "four");
          return res.status === 402 ? res : undefined;
        },
        { timeoutMs: 30_000 },
      );
      assert.equal(refused.body.error.code, "budget_exceeded");
      assert.equal((await spend(a, "five")).status, 402);
    } finally {
      for (const replica of started) await replica.close();
      await spendSchema.drop();
    }
  });
});
