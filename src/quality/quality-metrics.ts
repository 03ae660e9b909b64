import { Gauge, Registry } from "prom-client";
import type { QualityGroup, QualityReport } from "./quality-report.ts";

// The quality figure in Prometheus text format, over the scrape's ?since= window. Shares and intervals cannot
// be added up across label values, so each scope is its own series: scope="all" (key "all"), "category"
// (key L, M) and "model" (key: the routed model id, bounded by the configured roles).
export async function qualityMetricsText(report: QualityReport): Promise<string> {
  const registry = new Registry();
  const labelNames = ["scope", "key"] as const;
  const gauge = (name: string, help: string) =>
    new Gauge({ name: `orchestrator_quality_${name}`, help, labelNames, registers: [registry] });
  const samples = gauge(
    "samples",
    "Requests sampled for the quality figure in the window (?since=, default 24h)",
  );
  const judged = gauge("judged", "Sampled requests the judge gave a verdict for, in the window");
  const share = gauge(
    "as_good_or_better_ratio",
    "Share of judged samples whose routed answer was as good as or better than the baseline's",
  );
  const lower = gauge(
    "as_good_or_better_ratio_lower",
    "Lower bound of the share's 95% Wilson score interval",
  );
  const upper = gauge(
    "as_good_or_better_ratio_upper",
    "Upper bound of the share's 95% Wilson score interval",
  );
  const set = (scope: string, key: string, group: QualityGroup) => {
    const labels = { scope, key };
    samples.set(labels, group.sampled);
    judged.set(labels, group.judged);
    const { share: value, ci95 } = group.as_good_or_better;
    if (value === null || ci95 === null) return;
    share.set(labels, value);
    lower.set(labels, ci95.lower);
    upper.set(labels, ci95.upper);
  };
  set("all", "all", report);
  for (const [category, group] of Object.entries(report.by_category)) set("category", category, group);
  for (const [model, group] of Object.entries(report.by_model)) set("model", model, group);
  return registry.metrics();
}
