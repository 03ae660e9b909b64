import type { Category } from "./category.ts";

// What the router knows of a category's judged quality (see quality/: shadow samples judged against the
// baseline). The router only reads it; the quality layer keeps it.
export interface QualityStanding {
  readonly category: Category;
  // The role whose answers were judged (the category's route when it was not stepped up).
  readonly role: string;
  // Verdicts in the window, and the share judged as good as or better than the baseline's answer.
  readonly samples: number;
  readonly share: number;
  // The 95% (Wilson) interval of that share. With no verdicts yet: share 0 and the interval [0, 1].
  readonly low: number;
  readonly high: number;
  // True while the category's traffic is stepped up its ladder because `high` fell below the minimum share.
  readonly steppedUp: boolean;
  // When the current state (stepped up or not) began, in ms since the epoch; absent before any change.
  readonly since?: number;
}

// Kept by quality/route-quality.ts (RouteQuality), reachable as `app.routeQuality`; absent when shadow sampling
// or routing.quality is off. Reading a standing is cheap (no I/O, no pass over the verdicts), so the router may
// ask on every request; it is also what moves the window on.
export interface QualityStandings {
  // Undefined for a category the quality layer does not follow: one routed to orchestration or to the baseline
  // role itself, whose answers are never sampled.
  standing(category: Category): QualityStanding | undefined;
}
