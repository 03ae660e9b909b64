import type { Logger } from "pino";
import type { Clock } from "../core/clock.ts";
import { wilsonInterval } from "../core/wilson.ts";
import { type Category, categories } from "../routing/category.ts";
import type { QualityStanding, QualityStandings } from "../routing/quality-standing.ts";
import type { ShadowSampleEntry, UsageStore } from "../store/usage-store.ts";

export interface RouteQualitySettings {
  readonly minSamples: number;
  readonly minShare: number;
  readonly windowHours: number;
}

export interface RouteQualityDeps {
  readonly settings: RouteQualitySettings;
  // Each category's route (routing.categories): a role, or "orchestration".
  readonly routes: Readonly<Record<Category, string>>;
  // routing.escalation.ladder: the category each one steps up to.
  readonly ladder: Readonly<Partial<Record<Category, Category>>>;
  // The role that gives the shadow answers: a category routed to it has nothing to be compared with.
  readonly baselineRole: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

// A standing as /stats and /metrics show it: with where the ladder sends the category while stepped up.
export interface RouteStanding extends QualityStanding {
  // Routes answered as good or better, of `samples`.
  readonly good: number;
  // The ladder's next category and its route; undefined when the ladder has no step for this category.
  readonly stepsUpTo: { readonly category: Category; readonly route: string } | undefined;
}

const minuteMs = 60_000;
// Verdicts are counted in slots of whole minutes, at most this many per window: memory stays bounded
// whatever the traffic (one minute's slots for a 24-hour window).
const slotsPerWindow = 1440;

interface Slot {
  readonly start: number;
  good: number;
  total: number;
}

interface Track {
  readonly category: Category;
  readonly role: string;
  readonly stepsUpTo: RouteStanding["stepsUpTo"];
  // Oldest first.
  readonly slots: Slot[];
  good: number;
  total: number;
  steppedUp: boolean;
  since: number | undefined;
  // The standing as last computed; dropped whenever the counts or the state change.
  view: RouteStanding | undefined;
}

// Judged quality feeding the route (routing.quality). Per category routed to a role, the judged verdicts on
// that role's answers within the last `windowHours`: as good or better (a win or a tie, as in the quality
// figure) out of all judged. The category steps up its ladder while it has at least `minSamples` verdicts and
// the upper end of their 95% Wilson interval is below `minShare`, and comes back when that no longer holds.
//
// Recovery mostly comes by ageing out: while stepped up, the category is answered by the stronger role (the
// baseline by default, which is never sampled), so few new verdicts on the original role arrive; the step
// ends once enough of the verdicts that caused it have left the window. Nothing runs on a timer: the window
// moves on when a standing is read or a verdict recorded, and each slot leaving it is settled at the time
// it left, so `since` is exact to the slot.
//
// Each process keeps its own state, fed by its own samples and loaded from the store at start-up.
export class RouteQuality implements QualityStandings {
  readonly #settings: RouteQualitySettings;
  readonly #windowMs: number;
  readonly #slotMs: number;
  readonly #tracks = new Map<Category, Track>();
  readonly #clock: Clock;
  readonly #logger: Logger;

  constructor(deps: RouteQualityDeps) {
    this.#settings = deps.settings;
    this.#windowMs = deps.settings.windowHours * 3_600_000;
    this.#slotMs = minuteMs * Math.max(1, Math.floor(this.#windowMs / minuteMs / slotsPerWindow));
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    for (const category of categories) {
      const role = deps.routes[category];
      if (role === "orchestration" || role === deps.baselineRole) continue;
      const next = deps.ladder[category];
      this.#tracks.set(category, {
        category,
        role,
        stepsUpTo: next === undefined ? undefined : { category: next, route: deps.routes[next] },
        slots: [],
        good: 0,
        total: 0,
        steppedUp: false,
        since: undefined,
        view: undefined,
      });
    }
  }

  // The window's stored verdicts, so a restart keeps the state. Called once, before any record().
  async load(store: Pick<UsageStore, "shadowVerdictsByMinute">): Promise<void> {
    const now = this.#clock.now();
    const rows = await store.shadowVerdictsByMinute(new Date(now - this.#windowMs).toISOString());
    for (const row of rows) {
      const track = this.#trackOf(row.category, row.routedRole);
      if (track) this.#add(track, Date.parse(row.minute), row.verdict !== "worse", row.samples, now);
    }
    for (const track of this.#tracks.values())
      this.#decide(track, now, "from the verdicts stored in the window");
  }

  // A stored shadow sample (the sampler's listener): only judged verdicts on the category's own route count.
  record(entry: ShadowSampleEntry): void {
    if (entry.status !== "judged" || entry.verdict === null) return;
    const track = this.#trackOf(entry.category, entry.routedRole);
    if (!track) return;
    const now = this.#clock.now();
    this.#advance(track, now);
    const at = Date.parse(entry.at);
    const judgedAt = Number.isNaN(at) ? now : Math.min(at, now);
    if (this.#add(track, judgedAt, entry.verdict !== "worse", 1, now))
      this.#decide(track, now, "with a new verdict");
  }

  // Undefined for a category the quality layer does not follow: routed to orchestration or to the baseline.
  standing(category: Category): RouteStanding | undefined {
    const track = this.#tracks.get(category);
    if (!track) return undefined;
    this.#advance(track, this.#clock.now());
    track.view ??= this.#view(track);
    return track.view;
  }

  // Every followed category, for /stats and /metrics.
  standings(): RouteStanding[] {
    return [...this.#tracks.keys()].flatMap((category) => this.standing(category) ?? []);
  }

  #trackOf(category: string | null, role: string): Track | undefined {
    const track = this.#tracks.get(category as Category);
    // Answers of another role (a stepped-up route that is sampled, an old route table) say nothing of this one.
    return track?.role === role ? track : undefined;
  }

  // Counts `count` verdicts judged at `at`; false when they are already out of the window.
  #add(track: Track, at: number, good: boolean, count: number, now: number): boolean {
    const start = Math.floor(at / this.#slotMs) * this.#slotMs;
    if (start < now - this.#windowMs) return false;
    const { slots } = track;
    // Verdicts arrive nearly in order: the slot is the last one, or close to it.
    let i = slots.length - 1;
    while (i >= 0 && (slots[i] as Slot).start > start) i--;
    const slot = slots[i];
    if (slot?.start === start) {
      slot.good += good ? count : 0;
      slot.total += count;
    } else {
      slots.splice(i + 1, 0, { start, good: good ? count : 0, total: count });
    }
    track.good += good ? count : 0;
    track.total += count;
    track.view = undefined;
    return true;
  }

  // Drops the slots that have left the window, oldest first, settling the state as each one leaves.
  #advance(track: Track, now: number): void {
    const horizon = now - this.#windowMs;
    for (let slot = track.slots[0]; slot !== undefined && slot.start < horizon; slot = track.slots[0]) {
      track.slots.shift();
      track.good -= slot.good;
      track.total -= slot.total;
      track.view = undefined;
      this.#decide(track, slot.start + this.#windowMs, "as verdicts left the window");
    }
  }

  #decide(track: Track, at: number, cause: string): void {
    const { minSamples, minShare } = this.#settings;
    const interval = wilsonInterval(track.good, track.total);
    const below =
      track.stepsUpTo !== undefined &&
      track.total >= minSamples &&
      interval !== undefined &&
      interval.upper < minShare;
    if (below === track.steppedUp) return;
    track.steppedUp = below;
    track.since = at;
    track.view = undefined;
    const { category, role, stepsUpTo } = track;
    const details = {
      category,
      role,
      samples: track.total,
      share: interval?.share,
      upper: interval?.upper,
      minShare,
      minSamples,
      stepsUpTo: stepsUpTo?.category,
      since: new Date(at).toISOString(),
    };
    if (below) {
      this.#logger.warn(
        details,
        `judged quality of ${category} answers by ${role} is below routing.quality.minShare (${cause}): ` +
          `${category} traffic steps up to ${stepsUpTo?.category} (${stepsUpTo?.route})`,
      );
    } else {
      this.#logger.info(
        details,
        `judged quality of ${category} answers by ${role} is no longer below routing.quality.minShare ` +
          `(${cause}): ${category} traffic is routed to ${role} again`,
      );
    }
  }

  #view(track: Track): RouteStanding {
    const interval = wilsonInterval(track.good, track.total);
    return {
      category: track.category,
      role: track.role,
      samples: track.total,
      good: track.good,
      share: interval?.share ?? 0,
      low: interval?.lower ?? 0,
      high: interval?.upper ?? 1,
      steppedUp: track.steppedUp,
      stepsUpTo: track.stepsUpTo,
      ...(track.since === undefined ? {} : { since: track.since }),
    };
  }
}

export interface RouteQualityConfig {
  readonly routing: {
    readonly categories: Readonly<Record<Category, string>>;
    readonly escalation: { readonly ladder: Readonly<Partial<Record<Category, Category>>> };
    readonly quality: RouteQualitySettings & { readonly enabled: boolean };
  };
  readonly monitoring: {
    readonly baselineRole: string;
    readonly shadow: { readonly sampleRate: number; readonly baselineRole?: string | undefined };
  };
}

// Judged quality feeds the route only where there are verdicts to follow: with shadow sampling on.
export function routeQualityOff(config: RouteQualityConfig): string | undefined {
  if (!config.routing.quality.enabled) return "routing.quality.enabled is false";
  if (config.monitoring.shadow.sampleRate <= 0) {
    return "shadow sampling is off (monitoring.shadow.sampleRate is 0): no verdicts to follow";
  }
  return undefined;
}

// The instance for a configuration, loaded from the store; undefined when it is off.
export async function startRouteQuality(
  config: RouteQualityConfig,
  deps: { store: Pick<UsageStore, "shadowVerdictsByMinute">; clock: Clock; logger: Logger },
): Promise<RouteQuality | undefined> {
  if (routeQualityOff(config) !== undefined) return undefined;
  const quality = new RouteQuality({
    settings: config.routing.quality,
    routes: config.routing.categories,
    ladder: config.routing.escalation.ladder,
    baselineRole: config.monitoring.shadow.baselineRole ?? config.monitoring.baselineRole,
    clock: deps.clock,
    logger: deps.logger,
  });
  await quality.load(deps.store);
  return quality;
}
