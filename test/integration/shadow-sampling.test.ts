import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, beforeEach, describe, it } from "node:test";
import type { FakeReply, RecordedRequest } from "../fakes/fake-openrouter.ts";
import { type FakeOpenRouter, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { lastUserText, models, systemText } from "../support/responders.ts";
import { eventually, startTestApp, type TestApp } from "../support/test-app.ts";

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
    rmSync(dir, { recursive: true, force: true });
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
    assert.match(lastUserText(judged as RecordedRequest), /<answer_a>\nrouted answer to: /);
    assert.match(lastUserText(judged as RecordedRequest), /<answer_b>\nthe baseline answer\n/);
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
    assert.match(lastUserText(judge), /<answer_a>\nthe baseline answer\n<\/answer_a>/);
    assert.match(lastUserText(judge), /<answer_b>\nrouted answer to: order question\n<\/answer_b>/);
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
    await eventually(async () => fake.requests.find((r) => r.body.model === models.thinking));
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

  it("stops calling once the day's shadow cap is spent, and records the skipped samples", async () => {
    const fake = await startFakeOpenRouter({ responder: shadowResponder() });
    const t = await startTestApp({
      fake,
      random: () => 0.1,
      config: { monitoring: { shadow: { sampleRate: 1, maxDailyUsd: 0.0021 } } },
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
