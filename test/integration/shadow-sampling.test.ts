import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, beforeEach, describe, it } from "node:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import type { FakeReply, RecordedRequest } from "../fakes/fake-openrouter.ts";
import { type FakeOpenRouter, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { eventually } from "../support/eventually.ts";
import { lastUserText, models, systemText } from "../support/responders.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

const isJudge = (request: RecordedRequest) => /impartial judge/.test(systemText(request));

// M traffic: the medium model answers, the thinking model gives the baseline answer, the judge rules.
function shadowResponder(options: { judge?: () => FakeReply; baseline?: () => FakeReply } = {}) {
  return (request: RecordedRequest): FakeReply => {
    if (request.body.model === models.categorizer) return { kind: "text", content: "M", cost: 0.000001 };
    if (isJudge(request))
      return (
        options.judge?.() ?? {
          kind: "text",
          content: '{"winner": "A", "reason": "A is right"}',
          cost: 0.0003,
        }
      );
    // The thinking model or its fallback.
    if (request.body.model.startsWith("moonshotai/"))
      return options.baseline?.() ?? { kind: "text", content: "the baseline answer", cost: 0.002 };
    return { kind: "text", content: `routed answer to: ${lastUserText(request)}`, cost: 0.0001 };
  };
}

// Pinned randomness: every draw is `value`, so sampling (draw < rate) and the judge's order (draw < 0.5:
// the routed answer is A) are decided by the test.
function pinned(values: number[]) {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
}

describe("shadow sampling and the judge", () => {
  let fake: FakeOpenRouter;
  let t: TestApp;
  let draw = pinned([0.1]);
  const dir = mkdtempSync(join(tmpdir(), "shadow-"));
  const file = join(dir, "shadow.sqlite");

  // Reads the service's own database file, after /stats has flushed the ledger.
  const sql = async (query: string): Promise<{ rows: any[] }> => {
    await t.app.shadow.settled();
    await t.get("/stats");
    const db = new DatabaseSync(file, { readOnly: true });
    // Waits, like the service's own connection, should the checkpoint worker hold a lock for a moment.
    db.exec("PRAGMA busy_timeout = 5000");
    try {
      return { rows: db.prepare(query).all() };
    } finally {
      db.close();
    }
  };

  before(async () => {
    fake = await startFakeOpenRouter();
    t = await startTestApp({
      fake,
      databaseUrl: `sqlite:${file}`,
      config: {
        monitoring: { shadow: { sampleRate: 1, maxDailyUsd: 100 } },
        errorHandling: { circuitBreaker: { failureThreshold: 1000 } },
      },
      random: () => draw(),
    });
  });
  after(async () => {
    await t.close();
    await fake.close();
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });
  beforeEach(() => {
    fake.clear();
    fake.respondWith(shadowResponder());
    draw = pinned([0.1]);
  });

  const samples = async () => {
    await t.app.shadow.settled();
    return t.app.store.usage.shadowSampleCounts("1970-01-01T00:00:00.000Z");
  };

  it("makes every M request at a sample rate of 1 produce one baseline call and one judge call", async () => {
    const before = (await samples()).reduce((n, row) => n + row.samples, 0);
    for (const message of ["first question", "second question", "third question"]) {
      const res = await t.post("/chat", { message });
      assert.equal(res.status, 200);
      assert.equal(res.body.model, models.medium, "the user's answer is the routed one");
      assert.equal(res.body.response, `routed answer to: ${message}`);
    }
    await t.app.shadow.settled();
    const baselineCalls = fake.requests.filter((r) => r.body.model === models.thinking && !isJudge(r));
    const judgeCalls = fake.requests.filter(isJudge);
    assert.equal(baselineCalls.length, 3);
    assert.equal(judgeCalls.length, 3);
    // The baseline is asked what the routed model was asked.
    assert.deepEqual(baselineCalls.map(lastUserText).sort(), [
      "first question",
      "second question",
      "third question",
    ]);
    // The judge reads the request and both answers, at temperature 0.
    const judged = judgeCalls[0];
    assert.equal(judged?.body.temperature, 0);
    assert.match(lastUserText(judged as RecordedRequest), /<answer_a-[0-9a-f]{16}>\nrouted answer to: /);
    assert.match(lastUserText(judged as RecordedRequest), /<answer_b-[0-9a-f]{16}>\nthe baseline answer\n/);
    const after = (await samples()).reduce((n, row) => n + row.samples, 0);
    assert.equal(after - before, 3);
  });

  it("orders the two answers by the injected coin and maps the judge's letter back", async () => {
    // Draws: sampling, then the order. 0.9 puts the baseline first, so the judge's "A" means worse.
    draw = pinned([0.1, 0.9]);
    const first = await t.post("/chat", { message: "order question" });
    assert.equal(first.status, 200);
    await t.app.shadow.settled();
    const judge = fake.requests.find(isJudge) as RecordedRequest;
    assert.match(lastUserText(judge), /<answer_a-([0-9a-f]{16})>\nthe baseline answer\n<\/answer_a-\1>/);
    assert.match(
      lastUserText(judge),
      /<answer_b-([0-9a-f]{16})>\nrouted answer to: order question\n<\/answer_b-\1>/,
    );
    const rows = await t.app.store.usage.shadowSampleCounts("1970-01-01T00:00:00.000Z");
    assert.ok(rows.some((row) => row.verdict === "worse" && row.status === "judged"));
  });

  it("stores the verdict with the request: its id, category, models and the judge's reason", async () => {
    fake.respondWith(
      shadowResponder({
        judge: () => ({ kind: "text", content: '```json\n{"winner":"tie","reason":"Both are right."}\n```' }),
      }),
    );
    const res = await fetch(`${t.url}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "req-verdict-1" },
      body: JSON.stringify({ message: "tie question" }),
    });
    assert.equal(res.status, 200);
    await t.app.shadow.settled();
    const { rows } = await sql("select * from shadow_samples where request_id = 'req-verdict-1'");
    assert.equal(rows.length, 1);
    const row = rows[0];
    assert.equal(row.status, "judged");
    assert.equal(row.verdict, "equal");
    assert.equal(row.reason, "Both are right.");
    assert.equal(row.category, "M");
    assert.equal(row.routed_role, "medium_ai");
    assert.equal(row.routed_model, models.medium);
    assert.equal(row.baseline_role, "thinking_ai");
    assert.equal(row.baseline_model, models.thinking);
    assert.equal(row.judge_model, models.thinking);
    assert.equal(row.routed_first, 1);
    // The baseline's cost (0.002) and the judge's, priced from tokens: the fake reports none for it.
    assert.ok(Number(row.cost_usd) > 0.002 && Number(row.cost_usd) < 0.003, String(row.cost_usd));
    // The shadow calls are in the ledger under the request's id, marked as shadow.
    const ledger = await sql(
      "select purpose, shadow from upstream_calls where request_id = 'req-verdict-1' order by id",
    );
    assert.deepEqual(
      ledger.rows.map((r: any) => [r.purpose, Number(r.shadow)]),
      [
        ["categorize", 0],
        ["answer", 0],
        ["shadow", 1],
        ["judge", 1],
      ],
    );
  });

  it("keeps shadow calls out of the savings figure but in the total cost", async () => {
    const before = (await t.get("/stats?since=all")).body;
    await t.post("/chat", { message: "savings question" });
    await t.app.shadow.settled();
    const after = (await t.get("/stats?since=all")).body;
    const shadowSpent = after.cost.shadow_usd - before.cost.shadow_usd;
    assert.ok(Math.abs(shadowSpent - (0.002 + 0.0003)) < 1e-9, `shadow spend ${shadowSpent}`);
    const actual = after.savings.actual_usd - before.savings.actual_usd;
    assert.ok(Math.abs(actual - (0.000001 + 0.0001)) < 1e-9, `actual ${actual}`);
    const total = after.cost.total_usd - before.cost.total_usd;
    assert.ok(Math.abs(total - (0.000001 + 0.0001 + 0.002 + 0.0003)) < 1e-9, `total ${total}`);
  });

  it("never lets a failing shadow call touch the user's answer", async () => {
    fake.respondWith(
      shadowResponder({ baseline: () => ({ kind: "error", status: 400, message: "baseline refused" }) }),
    );
    const res = await t.post("/chat", { message: "baseline fails" });
    assert.equal(res.status, 200);
    assert.equal(res.body.response, "routed answer to: baseline fails");
    await t.app.shadow.settled();

    fake.respondWith(
      shadowResponder({ judge: () => ({ kind: "error", status: 400, message: "judge refused" }) }),
    );
    const judged = await t.post("/chat", { message: "judge fails" });
    assert.equal(judged.status, 200);
    assert.equal(judged.body.response, "routed answer to: judge fails");
    await t.app.shadow.settled();

    fake.respondWith(shadowResponder({ judge: () => ({ kind: "text", content: "No idea, sorry." }) }));
    const unparsed = await t.post("/chat", { message: "judge rambles" });
    assert.equal(unparsed.status, 200);
    await t.app.shadow.settled();
    const { rows } = await sql(
      "select status, error_code, reason from shadow_samples where status != 'judged' order by id",
    );
    assert.deepEqual(
      rows.slice(-3).map((r: any) => [r.status, r.error_code]),
      [
        ["failed", "upstream_bad_request"],
        ["failed", "upstream_bad_request"],
        ["unparsed", null],
      ],
    );
    assert.equal(rows.at(-1).reason, "No idea, sorry.");
  });

  it("answers the user while the baseline call is still unanswered", async () => {
    let release: (() => void) | undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    fake.respondWith(async (request) => {
      if (request.body.model === models.thinking && !isJudge(request)) await held;
      return shadowResponder()(request);
    });
    const res = await t.post("/chat", { message: "slow baseline" });
    assert.equal(res.status, 200);
    assert.equal(res.body.response, "routed answer to: slow baseline");
    // The baseline call goes out after the answer, and is still held while the user has the answer.
    await eventually("the shadow call to the thinking model", async () =>
      fake.requests.find((r) => r.body.model === models.thinking),
    );
    assert.equal(fake.requests.filter(isJudge).length, 0);
    release?.();
    await t.app.shadow.settled();
  });

  it("samples only answers routed to a cheaper role by their category", async () => {
    // L goes to the baseline role itself: nothing to compare.
    fake.respondWith((request) =>
      request.body.model === models.categorizer ? { kind: "text", content: "L" } : shadowResponder()(request),
    );
    await t.post("/chat", { message: "hard question" });
    // A role the client names is not routing's choice.
    await t.post("/v1/chat/completions", {
      model: "medium_ai",
      messages: [{ role: "user", content: "named role" }],
    });
    await t.app.shadow.settled();
    assert.equal(fake.requests.filter(isJudge).length, 0);
    assert.equal(fake.requests.filter((r) => r.body.model === models.thinking).length, 1);
  });
});

describe("shadow sampling limits", () => {
  it("samples nothing at the default rate of 0", async () => {
    const fake = await startFakeOpenRouter({ responder: shadowResponder() });
    const t = await startTestApp({ fake });
    try {
      await t.post("/chat", { message: "q" });
      await t.app.shadow.settled();
      assert.deepEqual(
        fake.requests.map((r) => r.body.model),
        [models.categorizer, models.medium],
      );
    } finally {
      await t.close();
      await fake.close();
    }
  });

  it("samples by the injected draw against the rate", async () => {
    const fake = await startFakeOpenRouter({ responder: shadowResponder() });
    const draws = pinned([0.6, 0.2, 0.3]);
    const t = await startTestApp({
      fake,
      random: draws,
      config: { monitoring: { shadow: { sampleRate: 0.5 } } },
    });
    try {
      await t.post("/chat", { message: "drawn 0.6: not sampled" });
      await t.app.shadow.settled();
      assert.equal(fake.requests.filter(isJudge).length, 0);
      await t.post("/chat", { message: "drawn 0.2: sampled" });
      await t.app.shadow.settled();
      assert.equal(fake.requests.filter(isJudge).length, 1);
    } finally {
      await t.close();
      await fake.close();
    }
  });

  it("skips a sample, never queues it, while maxConcurrent samples are running", async () => {
    let release: (() => void) | undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const fake = await startFakeOpenRouter({
      responder: async (request) => {
        if (request.body.model === models.thinking && !isJudge(request)) await held;
        return shadowResponder()(request);
      },
    });
    const t = await startTestApp({
      fake,
      random: () => 0.1,
      config: { monitoring: { shadow: { sampleRate: 1, maxConcurrent: 1 } } },
    });
    try {
      await t.post("/chat", { message: "first: sampled, its baseline held" });
      await eventually("the shadow call to the thinking model", async () =>
        fake.requests.find((r) => r.body.model === models.thinking),
      );
      assert.equal((await t.post("/chat", { message: "second: skipped" })).status, 200);
      release?.();
      await t.app.shadow.settled();
      const baselines = fake.requests.filter((r) => r.body.model === models.thinking && !isJudge(r));
      assert.deepEqual(baselines.map(lastUserText), ["first: sampled, its baseline held"]);
      const rows = await t.app.store.usage.shadowSampleCounts("1970-01-01T00:00:00.000Z");
      assert.equal(
        rows.reduce((n, row) => n + row.samples, 0),
        1,
      );
    } finally {
      release?.();
      await t.close();
      await fake.close();
    }
  });

  it("budgets shadow calls like any call: in the day's spending, not in the user's session", async () => {
    const fake = await startFakeOpenRouter({ responder: shadowResponder() });
    // The first request costs 0.000101 and its shadow pair 0.0023: past the session cap, if it counted there.
    const t = await startTestApp({
      fake,
      random: () => 0.1,
      config: {
        monitoring: { shadow: { sampleRate: 1 } },
        budgets: { perSessionUsd: 0.001, perDayUsd: 0.0025 },
        // Small output limits keep each call's reserved worst case below the tiny budgets.
        models: { medium_ai: { maxOutputTokens: 16 }, thinking_ai: { maxOutputTokens: 16 } },
      },
    });
    try {
      const first = await t.post("/chat", { message: "first" });
      assert.equal(first.status, 200);
      await t.app.shadow.settled();
      assert.equal(fake.requests.filter(isJudge).length, 1);
      // Same session: still within its own cap, since the shadow spending is not the user's.
      const second = await t.post("/chat", { message: "second", session_id: first.body.session_id });
      assert.equal(second.status, 200);
      await t.app.shadow.settled();
      // The day, though, has now spent the two answers and the first one's shadow calls: the next call is
      // refused (without the shadow spending it would have $0.0023 to spare).
      const third = await t.post("/chat", { message: "third" });
      assert.equal(third.status, 402);
      assert.equal(third.body.error.code, "budget_exceeded");
    } finally {
      await t.close();
      await fake.close();
    }
  });

  it("stops calling once the day's shadow cap is spent, and records the skipped samples", async () => {
    const fake = await startFakeOpenRouter({ responder: shadowResponder() });
    const t = await startTestApp({
      fake,
      random: () => 0.1,
      // A sample costs $0.0023; each shadow call reserves its worst case first (a few hundred prompt tokens and
      // 16 output tokens, under $0.0005), so the first sample fits in $0.0024 and the second one does not.
      config: {
        monitoring: { shadow: { sampleRate: 1, maxDailyUsd: 0.0024 } },
        models: { thinking_ai: { maxOutputTokens: 16 } },
      },
    });
    try {
      await t.post("/chat", { message: "first: under the cap" });
      await t.app.shadow.settled();
      fake.clear();
      const res = await t.post("/chat", { message: "second: over the cap" });
      assert.equal(res.status, 200);
      await t.app.shadow.settled();
      assert.deepEqual(
        fake.requests.map((r) => r.body.model),
        [models.categorizer, models.medium],
        "no shadow call once the cap is spent",
      );
      const rows = await t.app.store.usage.shadowSampleCounts("1970-01-01T00:00:00.000Z");
      assert.deepEqual(rows.map((r) => r.status).sort(), ["judged", "over_budget"]);
    } finally {
      await t.close();
      await fake.close();
    }
  });
});

describe("the quality figure in /stats and /metrics", () => {
  // The judge's verdict is written into each question: "[better]", "[equal]", "[worse]", "[ramble]" (no
  // verdict); "[fail]" makes the baseline call fail. "(L)" makes the categorizer say L.
  const verdictFor = (text: string) =>
    /\[better\]/.test(text) ? "A" : /\[worse\]/.test(text) ? "B" : /\[equal\]/.test(text) ? "tie" : undefined;
  const responder = (request: RecordedRequest): FakeReply => {
    const text = lastUserText(request);
    if (request.body.model === models.categorizer)
      return { kind: "text", content: /\(L\)/.test(text) ? "L" : "M" };
    if (isJudge(request)) {
      const winner = verdictFor(text);
      return winner
        ? { kind: "text", content: JSON.stringify({ winner, reason: `judged ${winner}` }), cost: 0.0003 }
        : { kind: "text", content: "Both have merits; hard to say." };
    }
    if (request.body.model.startsWith("moonshotai/"))
      return /\[fail\]/.test(text)
        ? { kind: "error", status: 400, message: "refused" }
        : { kind: "text", content: "the baseline answer", cost: 0.002 };
    return { kind: "text", content: `routed answer to: ${text}`, cost: 0.0001 };
  };

  it("shows sampled counts and the share as good or better with its 95% Wilson interval, per category and model", async () => {
    const fake = await startFakeOpenRouter({ responder });
    // The coin always shows the routed answer as A, so the judge's letter is the verdict written above.
    // L is routed to fast_ai here, so that L traffic is cheaper than the baseline and sampled too.
    const t = await startTestApp({
      fake,
      random: () => 0.1,
      config: {
        monitoring: { shadow: { sampleRate: 1, maxDailyUsd: 100 } },
        routing: { categories: { L: "fast_ai" } },
        errorHandling: { circuitBreaker: { failureThreshold: 1000 } },
      },
    });
    try {
      const mix = [
        "[better] m1",
        "[better] m2",
        "[equal] m3",
        "[worse] m4",
        "[ramble] m5",
        "[fail] m6",
        "(L) [worse] l1",
        "(L) [worse] l2",
        "(L) [equal] l3",
      ];
      for (const message of mix) {
        assert.equal((await t.post("/chat", { message })).status, 200);
        await t.app.shadow.settled();
      }
      const stats = await t.get("/stats?since=1h");
      assert.equal(stats.status, 200);
      const quality = stats.body.quality;
      assert.equal(quality.baseline_role, "thinking_ai");
      assert.equal(quality.judge_role, "thinking_ai");
      assert.equal(quality.sample_rate, 1);
      assert.equal(quality.sampled, 9);
      assert.equal(quality.judged, 7);
      assert.equal(quality.unparsed, 1);
      assert.equal(quality.failed, 1);
      assert.deepEqual(quality.verdicts, { better: 2, equal: 2, worse: 3 });

      // M: 3 of 4 as good or better (2 better, 1 equal). By hand, z = 1.959964, z² = 3.841459:
      //   denominator = 1 + z²/n = 1 + 0.960365 = 1.960365
      //   centre = (p + z²/2n) / denominator = (0.75 + 0.480182) / 1.960365 = 0.627527
      //   half = z/denominator · √(p(1−p)/n + z²/4n²) = 0.999796 · √(0.046875 + 0.060023) = 0.999796 · 0.326952 = 0.326885
      //   interval = [0.300642, 0.954413]
      const m = quality.by_category.M;
      assert.deepEqual([m.sampled, m.judged, m.unparsed, m.failed], [6, 4, 1, 1]);
      assert.deepEqual(m.as_good_or_better, {
        count: 3,
        share: 0.75,
        ci95: { lower: 0.3006, upper: 0.9544 },
      });

      // L: 1 of 3 (1 equal). denominator = 1 + 3.841459/3 = 2.280486; centre = (0.333333 + 0.640243) / 2.280486
      //   = 0.426916; half = 0.859450 · √(0.074074 + 0.106707) = 0.859450 · 0.425184 = 0.365424
      //   interval = [0.061492, 0.792340]
      const l = quality.by_category.L;
      assert.deepEqual(l.as_good_or_better, {
        count: 1,
        share: 0.3333,
        ci95: { lower: 0.0615, upper: 0.7923 },
      });

      // Everything: 4 of 7. denominator = 1 + 3.841459/7 = 1.548780; centre = (0.571429 + 0.274390) / 1.548780
      //   = 0.546119; half = 1.265489 · √(0.034985 + 0.019599) = 1.265489 · 0.233634 = 0.295661
      //   interval = [0.250458, 0.841780]
      assert.deepEqual(quality.as_good_or_better, {
        count: 4,
        share: 0.5714,
        ci95: { lower: 0.2505, upper: 0.8418 },
      });

      // Per routed model: the same groups, by the model that answered.
      assert.deepEqual(Object.keys(quality.by_model).sort(), [models.fast, models.medium].sort());
      assert.deepEqual(quality.by_model[models.medium].as_good_or_better, m.as_good_or_better);
      assert.deepEqual(quality.by_model[models.fast].as_good_or_better, l.as_good_or_better);
      assert.match(quality.method, /95% Wilson score interval/);
      assert.ok(Math.abs(quality.cost_usd - stats.body.cost.shadow_usd) < 1e-9);

      // /metrics shows the same figure over the same window.
      const metrics = parsePrometheusTextFormat((await t.get("/metrics?since=1h")).body as string);
      const value = (name: string, scope: string, key: string) =>
        metrics
          .find((family) => family.name === name)
          ?.metrics.find((s: any) => s.labels.scope === scope && s.labels.key === key)?.value;
      assert.equal(value("orchestrator_quality_samples", "all", "all"), "9");
      assert.equal(value("orchestrator_quality_judged", "category", "M"), "4");
      assert.equal(value("orchestrator_quality_as_good_or_better_ratio", "all", "all"), "0.5714");
      assert.equal(value("orchestrator_quality_as_good_or_better_ratio_lower", "category", "L"), "0.0615");
      assert.equal(
        value("orchestrator_quality_as_good_or_better_ratio_upper", "model", models.medium),
        "0.9544",
      );

      // A window that starts after the samples has none, in both places.
      const later = new Date(Date.now() + 60_000).toISOString();
      const empty = await t.get(`/stats?since=${later}`);
      assert.equal(empty.body.quality.sampled, 0);
      assert.equal(empty.body.quality.as_good_or_better.share, null);
      const emptyMetrics = parsePrometheusTextFormat((await t.get(`/metrics?since=${later}`)).body as string);
      const samples = emptyMetrics.find((f) => f.name === "orchestrator_quality_samples");
      assert.equal(samples?.metrics.find((s: any) => s.labels.scope === "all")?.value, "0");
      assert.equal((await t.get("/metrics?since=yesterday")).status, 400);
    } finally {
      await t.close();
      await fake.close();
    }
  });

  it("runs the whole loop in offline mode with the simulated provider", async () => {
    const t = await startTestApp({
      mode: "offline",
      random: () => 0.1,
      config: { monitoring: { shadow: { sampleRate: 1 } } },
    });
    try {
      const res = await t.post("/chat", { message: "What are the benefits of renewable energy?" });
      assert.equal(res.body.category, "M");
      assert.equal(res.body.provider, "simulated");
      await t.app.shadow.settled();
      const { quality, cost } = (await t.get("/stats")).body;
      assert.equal(quality.sampled, 1);
      assert.equal(quality.judged, 1);
      assert.deepEqual(quality.verdicts, { better: 0, equal: 1, worse: 0 });
      assert.equal(quality.by_category.M.as_good_or_better.share, 1);
      // One of one: the interval is still wide, [1/(1 + z²), 1].
      assert.deepEqual(quality.by_category.M.as_good_or_better.ci95, { lower: 0.2065, upper: 1 });
      assert.ok(cost.shadow_usd > 0, "the simulated shadow calls are priced like real ones");
    } finally {
      await t.close();
    }
  });
});
