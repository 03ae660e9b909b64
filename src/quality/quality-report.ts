import { wilsonInterval } from "../core/wilson.ts";
import type { ShadowSampleCountRow } from "../store/usage-store.ts";

export const qualityMethod =
  "A share (monitoring.shadow.sampleRate) of the requests routed by their category to a cheaper role than the " +
  "baseline is answered again by the baseline role in the background, and a judge model compares the two " +
  "answers with a fixed rubric, shown in random order. share = (better + equal) / judged, over the samples of " +
  "the window; ci95 is the 95% Wilson score interval of that share (z = 1.96). Samples the judge gave no " +
  "readable verdict for (unparsed), whose shadow calls failed, or that the daily shadow cap skipped " +
  "(over_budget) are counted but not in the share. It is one model's judgement on sampled traffic, not ground " +
  "truth: see the README for the limits.";

// Categories always listed, sampled or not, so an empty one reads as "no data" rather than as missing.
const listedCategories = ["L", "M"] as const;

export interface QualityGroup {
  readonly sampled: number;
  readonly judged: number;
  readonly unparsed: number;
  readonly failed: number;
  readonly over_budget: number;
  readonly verdicts: { readonly better: number; readonly equal: number; readonly worse: number };
  readonly as_good_or_better: {
    readonly count: number;
    // null until something has been judged.
    readonly share: number | null;
    readonly ci95: { readonly lower: number; readonly upper: number } | null;
  };
}

interface Tally {
  sampled: number;
  unparsed: number;
  failed: number;
  overBudget: number;
  better: number;
  equal: number;
  worse: number;
}

export type QualityReport = ReturnType<typeof summarizeQuality>;

// The quality figure over a window: overall, per category and per routed model.
export function summarizeQuality(
  rows: readonly ShadowSampleCountRow[],
  context: { readonly baselineRole: string; readonly judgeRole: string; readonly sampleRate: number },
) {
  const all = emptyTally();
  const byCategory = new Map<string, Tally>(listedCategories.map((c) => [c, emptyTally()]));
  const byModel = new Map<string, Tally>();
  let costUsd = 0;
  for (const row of rows) {
    const category = row.category ?? "none";
    const categoryTally = byCategory.get(category) ?? emptyTally();
    byCategory.set(category, categoryTally);
    const modelTally = byModel.get(row.routedModel) ?? emptyTally();
    byModel.set(row.routedModel, modelTally);
    for (const tally of [all, categoryTally, modelTally]) add(tally, row);
    costUsd += row.costUsd;
  }
  return {
    baseline_role: context.baselineRole,
    judge_role: context.judgeRole,
    sample_rate: context.sampleRate,
    ...groupView(all),
    by_category: Object.fromEntries([...byCategory].map(([key, tally]) => [key, groupView(tally)])) as Record<
      string,
      QualityGroup
    >,
    by_model: Object.fromEntries([...byModel].map(([key, tally]) => [key, groupView(tally)])) as Record<
      string,
      QualityGroup
    >,
    cost_usd: Math.round(costUsd * 1e10) / 1e10,
    method: qualityMethod,
  };
}

export function groupView(tally: Tally): QualityGroup {
  const judged = tally.better + tally.equal + tally.worse;
  const count = tally.better + tally.equal;
  const interval = wilsonInterval(count, judged);
  return {
    sampled: tally.sampled,
    judged,
    unparsed: tally.unparsed,
    failed: tally.failed,
    over_budget: tally.overBudget,
    verdicts: { better: tally.better, equal: tally.equal, worse: tally.worse },
    as_good_or_better: {
      count,
      share: interval ? round(interval.share) : null,
      ci95: interval ? { lower: round(interval.lower), upper: round(interval.upper) } : null,
    },
  };
}

function add(tally: Tally, row: ShadowSampleCountRow): void {
  tally.sampled += row.samples;
  if (row.status === "unparsed") tally.unparsed += row.samples;
  else if (row.status === "failed") tally.failed += row.samples;
  else if (row.status === "over_budget") tally.overBudget += row.samples;
  else if (row.verdict === "better") tally.better += row.samples;
  else if (row.verdict === "equal") tally.equal += row.samples;
  else if (row.verdict === "worse") tally.worse += row.samples;
}

function emptyTally(): Tally {
  return { sampled: 0, unparsed: 0, failed: 0, overBudget: 0, better: 0, equal: 0, worse: 0 };
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
