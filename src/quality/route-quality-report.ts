import {
  type RouteQuality,
  type RouteQualityConfig,
  type RouteStanding,
  routeQualityOff,
} from "./route-quality.ts";

export const routeQualityMethod =
  "Per category routed to a role other than the baseline: the judged shadow verdicts on that role's answers " +
  "within the last routing.quality.windowHours (counted by the minute; a sample counts for the route it was " +
  "answered by). share = (better + equal) / judged; ci95 is its 95% Wilson score interval. The category steps " +
  "up its ladder (routing.escalation.ladder) while it has at least min_samples verdicts and ci95.upper < " +
  "min_share, and comes back when that no longer holds, usually as the verdicts that caused it leave the " +
  "window (a stepped-up category is answered by the stronger role, so its own route gets few new verdicts). " +
  "This window is the setting's, not ?since=. route_in_force is the ladder's next step before the request's " +
  "own constraints; since is when the state last changed (the start-up time when it was loaded stepped up).";

// The routing.quality part of /stats: the live standing of each followed category.
export function routeQualityReport(quality: RouteQuality | undefined, config: RouteQualityConfig) {
  const { minSamples, minShare, windowHours } = config.routing.quality;
  const settings = { min_samples: minSamples, min_share: minShare, window_hours: windowHours };
  if (!quality) return { enabled: false, reason: routeQualityOff(config) ?? "off", ...settings };
  return {
    enabled: true,
    ...settings,
    by_category: Object.fromEntries(quality.standings().map((s) => [s.category, categoryView(s)])),
    method: routeQualityMethod,
  };
}

function categoryView(standing: RouteStanding) {
  const judged = standing.samples > 0;
  const { stepsUpTo } = standing;
  return {
    role: standing.role,
    samples: standing.samples,
    as_good_or_better: {
      count: standing.good,
      share: judged ? round(standing.share) : null,
      ci95: judged ? { lower: round(standing.low), upper: round(standing.high) } : null,
    },
    stepped_up: standing.steppedUp,
    route_in_force:
      standing.steppedUp && stepsUpTo
        ? { category: stepsUpTo.category, route: stepsUpTo.route }
        : { category: standing.category, route: standing.role },
    since: standing.since === undefined ? null : new Date(standing.since).toISOString(),
  };
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
