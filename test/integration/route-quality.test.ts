import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import type { FakeReply, RecordedRequest } from "../fakes/fake-openrouter.ts";
import { type FakeOpenRouter, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { lastUserText, models, systemText } from "../support/responders.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

const isJudge = (request: RecordedRequest) => /impartial judge/.test(systemText(request));

// M traffic answered by the medium model, the baseline by the thinking model, and a judge that always
// prefers the baseline's answer: with the routed answer shown as A (the pinned draw below), "B" wins.
function baselineWinsResponder(request: RecordedRequest): FakeReply {
  if (request.body.model === models.categorizer) return { kind: "text", content: "M", cost: 0.000001 };
  if (isJudge(request))
    return { kind: "text", content: '{"winner": "B", "reason": "B is right"}', cost: 0.0003 };
  if (request.body.model === models.thinking)
    return { kind: "text", content: "the baseline answer", cost: 0.002 };
  return { kind: "text", content: `routed answer to: ${lastUserText(request)}`, cost: 0.0001 };
}

const minSamples = 5;
const config = {
  monitoring: { shadow: { sampleRate: 1, maxDailyUsd: 100 } },
  routing: { quality: { minSamples } },
  errorHandling: { circuitBreaker: { failureThreshold: 1000 } },
};

async function routeQualityMetrics(t: TestApp): Promise<Record<string, string | undefined>> {
  const families = parsePrometheusTextFormat((await t.get("/metrics")).body as string);
  const gaugeValue = (name: string) =>
    families
      .find((f) => f.name === `orchestrator_routing_quality_${name}`)
      ?.metrics.find((m: any) => m.labels?.category === "M")?.value;
  return {
    samples: gaugeValue("samples"),
    share: gaugeValue("as_good_or_better_ratio"),
    upper: gaugeValue("as_good_or_better_ratio_upper"),
    steppedUp: gaugeValue("stepped_up"),
  };
}

const stepUpLines = (t: TestApp) => t.logs.filter((line) => /M traffic steps up to L/.test(line));

describe("judged quality feeding the route", () => {
  let fake: FakeOpenRouter;
  let t: TestApp;
  const dir = mkdtempSync(join(tmpdir(), "route-quality-"));
  const databaseUrl = `sqlite:${join(dir, "quality.sqlite")}`;
  const ask = async (message: string) => {
    const res = await t.post("/chat", { message });
    assert.equal(res.status, 200);
    assert.equal(res.body.model, models.medium);
    await t.app.shadow.settled();
  };

  before(async () => {
    fake = await startFakeOpenRouter({ responder: baselineWinsResponder });
    t = await startTestApp({ fake, databaseUrl, config, random: () => 0.1 });
  });
  after(async () => {
    await t.close();
    await fake.close();
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  it("shows a category stepped up in /stats and /metrics once enough verdicts are below the minimum", async () => {
    for (let i = 1; i < minSamples; i++) await ask(`question ${i}`);
    const early = (await t.get("/stats")).body.routing.quality;
    assert.equal(early.enabled, true);
    assert.equal(early.by_category.M.samples, minSamples - 1);
    assert.equal(early.by_category.M.stepped_up, false, "too few verdicts to act on");
    assert.deepEqual(early.by_category.M.route_in_force, { category: "M", route: "medium_ai" });
    assert.equal(early.by_category.M.since, null);
    assert.equal((await routeQualityMetrics(t)).steppedUp, "0");

    await ask("the verdict that tips it");
    const stats = (await t.get("/stats")).body.routing.quality;
    assert.deepEqual(
      { min_samples: stats.min_samples, min_share: stats.min_share, window_hours: stats.window_hours },
      { min_samples: minSamples, min_share: 0.8, window_hours: 24 },
    );
    // L goes to the baseline role and H to orchestration: only M is followed.
    assert.deepEqual(Object.keys(stats.by_category), ["M"]);
    const m = stats.by_category.M;
    assert.equal(m.role, "medium_ai");
    assert.equal(m.samples, minSamples);
    // 0 of 5: the Wilson interval is [0, 0.4345].
    assert.deepEqual(m.as_good_or_better, { count: 0, share: 0, ci95: { lower: 0, upper: 0.4345 } });
    assert.equal(m.stepped_up, true);
    assert.deepEqual(m.route_in_force, { category: "L", route: "thinking_ai" });
    assert.ok(Date.parse(m.since) <= Date.now() && Date.now() - Date.parse(m.since) < 60_000, m.since);
    assert.match(stats.method, /Wilson/);

    assert.deepEqual(await routeQualityMetrics(t), {
      samples: String(minSamples),
      share: "0",
      upper: "0.43448246478317476",
      steppedUp: "1",
    });
    assert.equal(stepUpLines(t).length, 1);
  });

  it("answers the stepped-up category one rung up its ladder, says why, and logs the change once", async () => {
    const res = await t.post("/chat", { message: "an M question after the step up" });
    assert.equal(res.status, 200);
    assert.equal(res.body.category, "M");
    assert.equal(res.body.model, models.thinking, "M traffic now goes to L's role");
    assert.equal(res.body.routing.stepped_up, true);
    const step = res.body.routing.trace.find((s: { step: string }) => s.step === "quality");
    assert.match(step.detail, /M judged as good 0% \(0%–43%, 5 verdicts\): stepped up to thinking_ai/);
    const v1 = await fetch(`${t.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "another M question" }] }),
    });
    assert.equal(v1.status, 200);
    assert.match(
      v1.headers.get("x-orchestrator-route") ?? "",
      /category=M;.*quality=stepped_up; pick=thinking_ai/,
    );
    await t.app.shadow.settled();
    await t.get("/stats");
    await t.get("/metrics");
    // The stronger role is the baseline itself: its answers are not sampled, so no verdict was added.
    assert.equal((await t.get("/stats")).body.routing.quality.by_category.M.samples, minSamples);
    assert.equal(stepUpLines(t).length, 1);
  });

  it("keeps the standing across a restart, from the stored verdicts", async () => {
    await t.close();
    t = await startTestApp({ fake, databaseUrl, config, random: () => 0.1 });
    const m = (await t.get("/stats")).body.routing.quality.by_category.M;
    assert.equal(m.samples, minSamples);
    assert.equal(m.stepped_up, true);
    assert.equal((await routeQualityMetrics(t)).steppedUp, "1");
    assert.equal(t.logs.filter((line) => /from the verdicts stored in the window/.test(line)).length, 1);
  });
});

describe("judged quality with shadow sampling off", () => {
  it("says why it is off, and adds no gauges", async () => {
    const t = await startTestApp();
    try {
      assert.equal(t.app.routeQuality, undefined);
      const quality = (await t.get("/stats")).body.routing.quality;
      assert.equal(quality.enabled, false);
      assert.match(quality.reason, /monitoring\.shadow\.sampleRate is 0/);
      assert.doesNotMatch((await t.get("/metrics")).body, /orchestrator_routing_quality_/);
    } finally {
      await t.close();
    }
  });
});
