import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FakeReply, RecordedRequest } from "../fakes/fake-openrouter.ts";
import { callKind, lastUserText, models, systemText } from "../support/responders.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { movableClock } from "../support/virtual-time.ts";

const hour = 3_600_000;

// L and M traffic by the message, the baseline (thinking) model's answers, a judge that finds the routed answer
// as good, and an empty medium answer for "EMPTY" (so the thinking model answers in its place: an escalation).
function trafficResponder(request: RecordedRequest): FakeReply {
  if (callKind(request) === "categorize") {
    const text = lastUserText(request);
    return { kind: "text", content: text.includes("LOW") ? "L" : "M", cost: 0.00001 };
  }
  if (/impartial judge/.test(systemText(request)))
    return { kind: "text", content: '{"winner": "tie", "reason": "Both answer it."}', cost: 0.0002 };
  if (request.body.model === models.medium && lastUserText(request).includes("EMPTY"))
    return { kind: "text", content: "" };
  return {
    kind: "text",
    content: `answer from ${request.body.model}`,
    cost: request.body.model === models.thinking ? 0.002 : 0.0001,
  };
}

type Bucket = {
  start: string;
  spend: { total_usd: number; shadow_usd: number; by_model: Record<string, number> };
  requests: { total: number; by_category: Record<string, number>; by_route_rule: Record<string, number> };
  savings: {
    baseline_usd: number;
    actual_usd: number;
    saved_usd: number;
    saved_percent: number | null;
    requests: number;
  };
  quality: { judged: number; as_good_or_better: number; share: number | null; ci95: unknown };
  cache_hits: number;
  escalations: number;
  speculation: { wasted_calls: number; wasted_usd: number };
};

const sum = (buckets: readonly Bucket[], of: (b: Bucket) => number) =>
  buckets.reduce((total, b) => total + of(b), 0);

describe("/stats series", () => {
  let t: TestApp;
  const time = movableClock();

  before(async () => {
    t = await startTestApp({
      clock: time.clock,
      random: () => 0.1,
      config: { monitoring: { shadow: { sampleRate: 1 } } },
    });
    t.fake?.respondWith(trafficResponder);
    // Three hours of traffic: M and L questions, an escalation, and a cached answer.
    for (const messages of [["MED one", "LOW two"], ["MED three", "MED EMPTY four"], ["LOW five"]]) {
      for (const message of messages) assert.equal((await t.post("/chat", { message })).status, 200);
      await t.app.shadow.settled();
      time.advance(hour);
    }
    const cached = { model: "medium_ai", messages: [{ role: "user", content: "2+2?" }], temperature: 0 };
    await t.post("/v1/chat/completions", cached);
    assert.equal((await t.post("/v1/chat/completions", cached)).headers.get("x-cache"), "HIT");
  });
  after(async () => {
    await t?.close();
  });

  it("adds per-hour buckets over the window whose sums are the window's figures", async () => {
    const stats = await t.get("/stats?since=24h&bucket=hour");
    assert.equal(stats.status, 200);
    const { series } = stats.body;
    assert.equal(series.bucket, "hour");
    assert.deepEqual(series.min_samples, { savings: 30, quality: 30 });
    const buckets = series.buckets as Bucket[];
    // From the hour 24 hours ago through the current one.
    assert.equal(buckets.length, 25);
    const now = time.clock.now();
    assert.equal(buckets.at(-1)?.start, `${new Date(now).toISOString().slice(0, 13)}:00:00.000Z`);
    assert.equal(Date.parse(buckets[1]?.start ?? "") - Date.parse(buckets[0]?.start ?? ""), hour);

    const close = (a: number, b: number, what: string) =>
      assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);
    close(
      sum(buckets, (b) => b.spend.total_usd),
      stats.body.cost.total_usd,
      "spend",
    );
    close(
      sum(buckets, (b) => b.savings.baseline_usd),
      stats.body.savings.baseline_usd,
      "baseline",
    );
    close(
      sum(buckets, (b) => b.savings.actual_usd),
      stats.body.savings.actual_usd,
      "actual",
    );
    close(
      sum(buckets, (b) => b.spend.shadow_usd),
      stats.body.cost.shadow_usd,
      "shadow",
    );
    assert.equal(
      sum(buckets, (b) => b.requests.total),
      stats.body.requests.total,
    );
    assert.equal(
      sum(buckets, (b) => b.quality.judged),
      stats.body.quality.judged,
    );
    assert.equal(
      sum(buckets, (b) => b.cache_hits),
      stats.body.cache_hits,
    );
    assert.equal(
      sum(buckets, (b) => b.escalations),
      stats.body.requests.escalated.total,
    );
    assert.equal(stats.body.cache_hits, 1);
    assert.equal(stats.body.requests.escalated.total, 1);
    // Per model without the shadow calls, which are a spend of their own.
    for (const b of buckets)
      close(
        Object.values(b.spend.by_model).reduce((n, usd) => n + usd, 0) + b.spend.shadow_usd,
        b.spend.total_usd,
        "models and shadow",
      );
    close(
      sum(buckets, (b) => b.spend.by_model[models.medium] ?? 0),
      stats.body.cost.by_model[models.medium],
      "the medium model, which made no shadow calls",
    );

    // The traffic's four hours, in order: two requests, two (one escalated), one, then the cached pair.
    const busy = buckets.slice(-4);
    assert.deepEqual(
      busy.map((b) => b.requests.by_category),
      [{ M: 1, L: 1 }, { M: 2 }, { L: 1 }, { none: 2 }],
    );
    assert.deepEqual(
      busy.map((b) => b.requests.by_route_rule),
      [{ category: 2 }, { category: 2 }, { category: 1 }, { explicit: 2 }],
      "requests that went through the router, by the rule that decided",
    );
    assert.deepEqual(
      busy.map((b) => b.savings.requests),
      [2, 2, 1, 2],
      "requests that made answering calls (a cached answer counts, at its original tokens)",
    );
    assert.deepEqual(
      busy.map((b) => b.escalations),
      [0, 1, 0, 0],
    );
    assert.equal(busy[3]?.cache_hits, 1);
    // M answers are sampled and judged as good: a share of 1 with its interval.
    assert.equal(busy[0]?.quality.judged, 1);
    assert.equal(busy[0]?.quality.share, 1);
    for (const b of busy) close(b.savings.saved_usd, b.savings.baseline_usd - b.savings.actual_usd, "saved");
    assert.equal(busy[0]?.spend.shadow_usd, 0.0022, "the baseline's answer and the judging");
    assert.ok(buckets.slice(0, -4).every((b) => b.requests.total === 0 && b.spend.total_usd === 0));
  });

  it("leaves the series out without a bucket", async () => {
    const stats = await t.get("/stats?since=24h");
    assert.equal(stats.status, 200);
    assert.equal(stats.body.series, undefined);
  });

  it("refuses a bucket other than hour or day, naming the field", async () => {
    for (const bucket of ["week", "HOUR", ""]) {
      const stats = await t.get(`/stats?bucket=${bucket}`);
      assert.equal(stats.status, 400, bucket);
      assert.equal(stats.body.error.field, "bucket");
      assert.match(stats.body.error.message, /^bucket: must be hour or day/);
    }
  });

  it("bounds the buckets: 31 days by the hour, a year by the day", async () => {
    assert.equal((await t.get("/stats?since=31d&bucket=hour")).body.series.buckets.length, 745);
    const tooLong = await t.get("/stats?since=32d&bucket=hour");
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.body.error.field, "since");
    assert.match(tooLong.body.error.message, /covers at most 744 hours .* use a later since or bucket=day/);
    assert.equal((await t.get("/stats?since=32d&bucket=day")).body.series.buckets.length, 33);
    assert.equal((await t.get("/stats?since=367d&bucket=day")).status, 400);
  });

  it("starts an all-time series at the oldest row kept", async () => {
    const stats = await t.get("/stats?since=all&bucket=day");
    assert.equal(stats.status, 200);
    const buckets = stats.body.series.buckets as Bucket[];
    const first = await t.app.store.usage.earliestAt();
    assert.equal(buckets[0]?.start, `${first?.slice(0, 10)}T00:00:00.000Z`);
    assert.equal(
      sum(buckets, (b) => b.requests.total),
      stats.body.requests.total,
    );
  });
});
