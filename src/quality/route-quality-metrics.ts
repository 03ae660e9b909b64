import { Gauge, type Registry } from "prom-client";
import type { RouteStanding } from "./route-quality.ts";

// The standing routing.quality acts on, per category, read at scrape time (its own window, not ?since=).
export function registerRouteQualityGauges(
  registry: Registry,
  standings: () => readonly RouteStanding[],
): void {
  const gauge = (name: string, help: string, value: (standing: RouteStanding) => number | undefined) =>
    new Gauge({
      name: `orchestrator_routing_quality_${name}`,
      help,
      labelNames: ["category"] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const standing of standings()) {
          const measured = value(standing);
          if (measured !== undefined) this.set({ category: standing.category }, measured);
        }
      },
    });
  gauge(
    "samples",
    "Judged verdicts on the category's route within routing.quality.windowHours",
    (s) => s.samples,
  );
  gauge(
    "as_good_or_better_ratio",
    "Share of those verdicts judging the routed answer as good as or better than the baseline's",
    (s) => (s.samples > 0 ? s.share : undefined),
  );
  gauge(
    "as_good_or_better_ratio_upper",
    "Upper bound of the share's 95% Wilson score interval: below routing.quality.minShare, the category steps up",
    (s) => (s.samples > 0 ? s.high : undefined),
  );
  gauge(
    "stepped_up",
    "1 while the category's traffic is stepped up its ladder for low judged quality, else 0",
    (s) => (s.steppedUp ? 1 : 0),
  );
}
