import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import parsePrometheus from "parse-prometheus-text-format";
import type { FakeOpenRouter, FakeReply, RecordedRequest } from "../fakes/fake-openrouter.ts";
import { startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { callKind, lastUserText, models } from "../support/responders.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

// Every call uses 1000 tokens in and 200 out. The upstream reports $0.0011 for the thinking model and
// $0.0001 for any other, so every figure below can be worked out by hand.
const tokens = { promptTokens: 1000, completionTokens: 200 };
const costOf = (model: string) => (model === models.thinking ? 0.0011 : 0.0001);
const plan = {
  workflow: [
    {
      type: "linear",
      tasks: [
        { model: "medium_ai", prompt: "Part one of: {request}", output_variable: "one" },
        { model: "medium_ai", prompt: "Part two of: {request}", output_variable: "two" },
      ],
    },
  ],
};

function mixResponder(request: RecordedRequest): FakeReply {
  const cost = costOf(request.body.model);
  const kind = callKind(request);
  if (kind === "categorize") {
    const text = lastUserText(request);
    const label = text.includes("HIGH") ? "H" : text.includes("LOW") ? "L" : "M";
    return { kind: "text", content: label, ...tokens, cost };
  }
  if (kind === "plan") return { kind: "text", content: JSON.stringify(plan), ...tokens, cost };
  return { kind: "text", content: `answer from ${request.body.model}`, ...tokens, cost };
}

const sumReportedCosts = (requests: readonly RecordedRequest[]) =>
  requests.reduce((sum, r) => sum + costOf(r.body.model), 0);

describe("cost ledger, /stats and savings", () => {
  let fake: FakeOpenRouter;
  let t: TestApp;
  let dir: string;

  before(async () => {
    fake = await startFakeOpenRouter();
    dir = mkdtempSync(join(tmpdir(), "ledger-"));
  });
  after(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });
  beforeEach(() => {
    fake.clear();
    fake.respondWith(mixResponder);
  });

  it("records every upstream call at the cost the upstream reported, and the savings of a known L/M/H mix", async () => {
    const databaseUrl = `sqlite:${join(dir, "mix.sqlite")}`;
    t = await startTestApp({ fake, databaseUrl });
    const m = await t.post("/chat", { message: "MED: what is a heat pump?" });
    assert.equal(m.body.category, "M");
    const l = await t.post("/chat", { message: "LOW: prove that there are infinitely many primes" });
    assert.equal(l.body.category, "L");
    const h = await t.post("/chat", { message: "HIGH: plan a product launch with copy and a video" });
    assert.equal(h.body.category, "H");
    await t.app.workflows.waitFor(h.body.workflow_id);

    // 3 categorizer calls, the M and L answers, and for H: acknowledgement, plan, 2 tasks, final answer.
    assert.equal(fake.requests.length, 10);
    const reported = sumReportedCosts(fake.requests);
    assert.ok(Math.abs(reported - 0.004) < 1e-12, `hand-computed actual cost, got ${reported}`);

    const stats = await t.get("/stats");
    assert.equal(stats.status, 200);
    assert.ok(Math.abs(stats.body.cost.total_usd - reported) < 1e-9);
    assert.ok(Math.abs((await t.app.store.usage.spentUsd({})) - reported) < 1e-12);
    assert.ok(
      Math.abs((await t.app.store.usage.spentUsd({ sessionId: m.body.session_id })) - 0.0002) < 1e-12,
    );

    // Baseline: the 6 answering calls (M, L, plan, 2 tasks, final) at thinking_ai's list prices
    // ($0.684 and $3.42 per million): 6 × (1000 × 0.684 + 200 × 3.42) / 1e6 = 0.008208.
    const savings = stats.body.savings;
    assert.equal(savings.baseline_role, "thinking_ai");
    assert.equal(savings.baseline_model, models.thinking);
    assert.ok(Math.abs(savings.baseline_usd - 0.008208) < 1e-9, `baseline ${savings.baseline_usd}`);
    assert.ok(Math.abs(savings.actual_usd - 0.004) < 1e-9);
    assert.ok(Math.abs(savings.saved_usd - 0.004208) < 1e-9);
    assert.equal(savings.saved_percent, 51.27);
    assert.match(savings.method, /baseline role's list prices/);

    assert.equal(stats.body.requests.by_endpoint["/chat"], 3);
    assert.equal(stats.body.requests.by_category.L, 1);
    assert.equal(stats.body.requests.by_category.M, 1);
    assert.equal(stats.body.requests.by_category.H, 1);
    const medium = stats.body.models.find((row: { model: string }) => row.model === models.medium);
    assert.equal(medium.calls, 3, "the M answer and two workflow tasks");
    assert.equal(medium.prompt_tokens, 3000);
    assert.ok(medium.latency_ms.p50 >= 0 && medium.latency_ms.p99 >= medium.latency_ms.p50);
    assert.equal(stats.body.errors.upstream_tries, 10);
    assert.equal(stats.body.errors.rate, 0);
    assert.deepEqual(stats.body.upstream_calls.waiting, { high: 0, medium: 0, low: 0 });
    assert.equal(stats.body.workflows.running, 0);
    await t.close();

    // The ledger is in the database: a restarted server reports the same figures.
    t = await startTestApp({ fake, databaseUrl });
    const again = await t.get("/stats?since=all");
    assert.ok(Math.abs(again.body.cost.total_usd - reported) < 1e-9);
    assert.equal(again.body.savings.saved_percent, 51.27);
    await t.close();
  });

  it("counts failed tries by error kind, and refuses a bad window", async () => {
    t = await startTestApp({ fake, config: { models: { medium_ai: { fallbacks: [] } } } });
    try {
      fake.enqueue({ kind: "error", status: 503, message: "busy" });
      const res = await t.post("/v1/chat/completions", {
        model: "medium_ai",
        messages: [{ role: "user", content: "hello" }],
      });
      assert.equal(res.status, 200);
      const stats = await t.get("/stats?since=15m");
      assert.equal(stats.body.errors.upstream_tries, 2);
      assert.equal(stats.body.errors.by_kind.transient, 1);
      assert.equal(stats.body.errors.rate_by_kind.transient, 0.5);
      assert.equal(stats.body.requests.by_endpoint["/v1/chat/completions"], 1);
      const bad = await t.get("/stats?since=yesterday-ish");
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.field, "since");
    } finally {
      await t.close();
    }
  });
});

describe("/metrics", () => {
  it("serves Prometheus text with the ledger's figures, labelled by model, role, category, outcome and provider", async () => {
    const t = await startTestApp();
    try {
      t.fake?.respondWith(mixResponder);
      await t.post("/chat", { message: "MED: hello there" });
      await t.post("/chat", { message: "LOW: a hard one" });
      const res = await fetch(`${t.url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      const families = parsePrometheus(await res.text());
      const family = (name: string) => {
        const found = families.find((f) => f.name === name);
        assert.ok(found, `${name} is exported`);
        return found;
      };
      const calls = family("orchestrator_upstream_calls_total");
      assert.equal(calls.type, "COUNTER");
      const mediumAnswer = calls.metrics.find(
        (s) => s.labels?.model === models.medium && s.labels?.category === "M",
      );
      assert.deepEqual(mediumAnswer?.labels, {
        model: models.medium,
        role: "medium_ai",
        category: "M",
        purpose: "answer",
        outcome: "ok",
        provider: "openrouter",
      });
      const cost = family("orchestrator_cost_usd_total");
      const total = cost.metrics.reduce((sum, s) => sum + Number(s.value ?? 0), 0);
      assert.ok(Math.abs(total - sumReportedCosts(t.fake?.requests ?? [])) < 1e-12);
      assert.equal(family("orchestrator_upstream_call_duration_seconds").type, "HISTOGRAM");
      assert.equal(family("orchestrator_request_duration_seconds").type, "HISTOGRAM");
      const requests = family("orchestrator_requests_total");
      assert.ok(requests.metrics.some((s) => s.labels?.endpoint === "/chat"));
      family("orchestrator_circuit_state");
      family("orchestrator_upstream_queue_waiting");
      family("orchestrator_workflows_running");
      family("orchestrator_process_resident_memory_bytes");
    } finally {
      await t.close();
    }
  });
});

describe("x-orchestrator-overhead-ms", () => {
  // Each upstream call takes 250 ms: a header that counted upstream time would be above that.
  const slowUpstream = (request: RecordedRequest): FakeReply => {
    const reply = mixResponder(request);
    return reply.kind === "text" ? { ...reply, delayMs: 250 } : reply;
  };
  const overheadOf = (headers: Headers) => {
    const value = headers.get("x-orchestrator-overhead-ms");
    assert.ok(value !== null, "the header is present");
    assert.match(value, /^\d+\.\d{2}$/);
    return Number(value);
  };

  it("is on every response, counts only the service's own time, and feeds a /metrics histogram", async () => {
    const t = await startTestApp();
    try {
      t.fake?.respondWith(slowUpstream);
      const started = performance.now();
      const chat = await t.post("/chat", { message: "MED: what is a heat pump?" });
      const wallMs = performance.now() - started;
      assert.equal(chat.status, 200);
      assert.equal(t.fake?.requests.length, 2, "the categorizer and the answer");
      assert.ok(wallMs >= 500);
      const chatOverhead = overheadOf(chat.headers);
      assert.ok(chatOverhead < wallMs - 500, `${chatOverhead} ms excludes two 250 ms upstream calls`);

      const completionStarted = performance.now();
      const completion = await t.post("/v1/chat/completions", {
        model: "medium_ai",
        messages: [{ role: "user", content: "hello" }],
      });
      const completionWallMs = performance.now() - completionStarted;
      assert.equal(completion.status, 200);
      // Against the request's own wall time: a busy machine slows the service too, but the upstream's 250 ms
      // are never in the figure.
      const completionOverhead = overheadOf(completion.headers);
      assert.ok(
        completionOverhead < completionWallMs - 250,
        `${completionOverhead} ms of ${completionWallMs} ms excludes the 250 ms upstream call`,
      );

      // Errors and endpoints with no upstream call carry it too.
      const missing = await t.post("/v1/chat/completions", { model: "no_such_model", messages: [] });
      assert.ok(missing.status >= 400 && missing.status < 500);
      overheadOf(missing.headers);
      overheadOf((await t.get("/health")).headers);

      // A stream's header leaves before the answer; it still excludes the upstream's time.
      const streamStarted = performance.now();
      const stream = await fetch(`${t.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: "medium_ai",
          stream: true,
          messages: [{ role: "user", content: "hi" }],
        }),
      });
      assert.match(stream.headers.get("content-type") ?? "", /^text\/event-stream/);
      await stream.text();
      const streamWallMs = performance.now() - streamStarted;
      assert.ok(overheadOf(stream.headers) < streamWallMs - 250);

      const metrics = await (await fetch(`${t.url}/metrics`)).text();
      assert.match(metrics, /^# TYPE orchestrator_overhead_seconds histogram$/m);
      const series = (name: string) =>
        Number(
          new RegExp(`^orchestrator_overhead_seconds_${name}\\{endpoint="/chat"\\} (\\S+)$`, "m").exec(
            metrics,
          )?.[1],
        );
      assert.equal(series("count"), 1);
      assert.ok(
        series("sum") * 1000 < wallMs - 500,
        "the histogram excludes upstream time as the header does",
      );
    } finally {
      await t.close();
    }
  });
});

describe("response cache", () => {
  const ask = (t: TestApp, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    t.post(
      "/v1/chat/completions",
      { model: "medium_ai", messages: [{ role: "user", content: "2+2?" }], ...body },
      headers,
    );

  it("answers an identical temperature-0 request from the cache, marks it, counts it, and skips it on no-cache", async () => {
    const t = await startTestApp();
    try {
      const first = await ask(t, { temperature: 0 });
      assert.equal(first.headers.get("x-cache"), null);
      const second = await ask(t, { temperature: 0 });
      assert.equal(second.headers.get("x-cache"), "HIT");
      assert.equal(second.body.orchestrator.cached, true);
      assert.equal(second.body.orchestrator.cost_usd, 0);
      assert.equal(second.body.choices[0].message.content, first.body.choices[0].message.content);
      assert.equal(t.fake?.requests.length, 1, "the second answer did not reach the upstream");

      const bypass = await ask(t, { temperature: 0 }, { "cache-control": "no-cache" });
      assert.equal(bypass.headers.get("x-cache"), null);
      assert.equal(t.fake?.requests.length, 2);

      // Above temperature 0 only a client that asks for it gets a cached answer.
      await ask(t, { temperature: 0.9 });
      await ask(t, { temperature: 0.9 });
      assert.equal(t.fake?.requests.length, 4);
      await ask(t, { temperature: 0.9, cache: true });
      const preferred = await ask(t, { temperature: 0.9, cache: true });
      assert.equal(preferred.headers.get("x-cache"), "HIT");
      assert.equal(t.fake?.requests.length, 5);

      const stats = await t.get("/stats");
      assert.equal(stats.body.cache_hits, 2);
      assert.equal(stats.body.requests.answered_from_cache, 2);
      assert.ok(stats.body.savings.cache_saved_usd > 0);
    } finally {
      await t.close();
    }
  });

  it("caches /chat answers too, and marks them", async () => {
    const t = await startTestApp({ config: { models: { medium_ai: { temperature: 0 } } } });
    try {
      t.fake?.respondWith(mixResponder);
      const first = await t.post("/chat", { message: "MED: same question" });
      const second = await t.post("/chat", { message: "MED: same question" });
      assert.equal(first.body.cached, undefined);
      assert.equal(second.body.cached, true);
      assert.equal(second.headers.get("x-cache"), "HIT");
      assert.equal(second.body.response, first.body.response);
    } finally {
      await t.close();
    }
  });
});

describe("budgets", () => {
  it("refuses paid calls with 402 once a session has spent its budget; other sessions go on", async () => {
    // A small output limit keeps each call's reserved worst case below the tiny budget.
    const t = await startTestApp({
      config: { budgets: { perSessionUsd: 0.0005 }, models: { medium_ai: { maxOutputTokens: 16 } } },
    });
    try {
      t.fake?.respondWith(mixResponder);
      const first = await t.post("/chat", { message: "MED: one" });
      const session = first.body.session_id;
      // Each M request costs $0.0002 (categorizer and answer): the third ends past $0.0005.
      await t.post("/chat", { message: "MED: two", session_id: session });
      await t.post("/chat", { message: "MED: three", session_id: session });
      const calls = t.fake?.requests.length;
      const refused = await t.post("/chat", { message: "MED: four", session_id: session });
      assert.equal(refused.status, 402);
      assert.equal(refused.body.error.code, "budget_exceeded");
      assert.equal(refused.body.error.retryable, false);
      assert.match(refused.body.error.message, /budget of \$0\.0005 for session/);
      assert.equal(t.fake?.requests.length, calls, "nothing was sent upstream");
      const other = await t.post("/chat", { message: "MED: elsewhere" });
      assert.equal(other.status, 200);
    } finally {
      await t.close();
    }
  });

  it("refuses paid calls once the day's budget is spent, in the OpenAI format too", async () => {
    const t = await startTestApp({
      config: { budgets: { perDayUsd: 0.0003 }, models: { medium_ai: { maxOutputTokens: 16 } } },
    });
    try {
      t.fake?.respondWith(mixResponder);
      await t.post("/chat", { message: "MED: one" });
      await t.post("/chat", { message: "MED: two" });
      const refused = await t.post("/v1/chat/completions", {
        model: "medium_ai",
        messages: [{ role: "user", content: "three" }],
      });
      assert.equal(refused.status, 402);
      assert.match(refused.body.error.message, /daily budget of \$0\.0003 is used up/);
    } finally {
      await t.close();
    }
  });
});

describe("request ids in logs", () => {
  it("follows a request through routing, workflow tasks and upstream calls, and logs no message text", async () => {
    const t = await startTestApp();
    try {
      t.fake?.respondWith(mixResponder);
      const secret = "HIGH: my confidential launch plan for Project Nightingale";
      const res = await t.post("/chat", { message: secret }, { "x-request-id": "trace-abc-123" });
      assert.equal(res.headers.get("x-request-id"), "trace-abc-123");
      await t.app.workflows.waitFor(res.body.workflow_id);
      const lines = t.logs.flatMap((chunk) => chunk.trim().split("\n")).map((line) => JSON.parse(line));
      const traced = lines.filter((line) => line.request_id === "trace-abc-123");
      const upstream = traced.filter((line) => line.msg === "upstream call");
      assert.deepEqual([...new Set(upstream.map((line) => line.purpose))].sort(), [
        "acknowledge",
        "categorize",
        "finish",
        "plan",
        "task",
      ]);
      const tasks = upstream.filter((line) => line.purpose === "task");
      assert.equal(tasks.length, 2);
      assert.ok(tasks.every((line) => line.workflow_id === res.body.workflow_id));
      assert.ok(traced.some((line) => line.msg === "request completed" && line.category === "H"));
      const atInfo = lines.filter((line) => line.level >= 30);
      assert.ok(atInfo.length > 0);
      assert.ok(atInfo.every((line) => !JSON.stringify(line).includes("Nightingale")));
    } finally {
      await t.close();
    }
  });
});
