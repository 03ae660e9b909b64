import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { summarizeQuality } from "../../../src/quality/quality-report.ts";
import type { ShadowSampleCountRow } from "../../../src/store/usage-store.ts";

const row = (
  category: string | null,
  routedModel: string,
  status: ShadowSampleCountRow["status"],
  verdict: ShadowSampleCountRow["verdict"],
  samples: number,
): ShadowSampleCountRow => ({ category, routedModel, status, verdict, samples, costUsd: 0.001 * samples });

const context = { baselineRole: "thinking_ai", judgeRole: "thinking_ai", sampleRate: 0.1 };

describe("summarizeQuality", () => {
  it("counts verdicts overall, per category and per model, leaving unjudged samples out of the share", () => {
    const report = summarizeQuality(
      [
        row("M", "medium", "judged", "better", 20),
        row("M", "medium", "judged", "equal", 12),
        row("M", "medium", "judged", "worse", 8),
        row("M", "medium", "unparsed", null, 2),
        row("M", "medium", "failed", null, 1),
        row("M", "medium", "over_budget", null, 3),
      ],
      context,
    );
    assert.equal(report.sampled, 46);
    assert.equal(report.judged, 40);
    assert.deepEqual(report.verdicts, { better: 20, equal: 12, worse: 8 });
    assert.deepEqual([report.unparsed, report.failed, report.over_budget], [2, 1, 3]);
    // 32 of 40: share 0.8, Wilson 95% [0.6524, 0.8950] (worked out in wilson.test.ts).
    assert.deepEqual(report.as_good_or_better, {
      count: 32,
      share: 0.8,
      ci95: { lower: 0.6524, upper: 0.895 },
    });
    assert.deepEqual(report.by_category.M?.as_good_or_better, report.as_good_or_better);
    assert.deepEqual(report.by_model.medium?.as_good_or_better, report.as_good_or_better);
    assert.equal(report.cost_usd, 0.046);
    assert.match(report.method, /Wilson score interval/);
  });

  it("lists L and M even when nothing was sampled, with no share", () => {
    const report = summarizeQuality([], context);
    assert.equal(report.sampled, 0);
    assert.deepEqual(report.as_good_or_better, { count: 0, share: null, ci95: null });
    assert.deepEqual(Object.keys(report.by_category), ["L", "M"]);
    assert.equal(report.by_category.L?.as_good_or_better.share, null);
    assert.deepEqual(report.by_model, {});
  });
});
