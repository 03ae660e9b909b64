import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { parseConfig } from "../../../src/config/index.ts";
import type { Clock } from "../../../src/core/clock.ts";
import { wilsonInterval } from "../../../src/core/wilson.ts";
import { createLogger } from "../../../src/logger.ts";
import {
  RouteQuality,
  type RouteQualityDeps,
  startRouteQuality,
} from "../../../src/quality/route-quality.ts";
import { openStore } from "../../../src/store/open-store.ts";
import type { Store } from "../../../src/store/store.ts";
import type { ShadowSampleEntry } from "../../../src/store/usage-store.ts";
import { freshPostgresSchema, postgresSkipReason, postgresUrl } from "../../support/services.ts";

const minute = 60_000;
const hour = 60 * minute;
const start = Date.parse("2026-03-01T00:00:00.000Z");

function manualClock(at = start) {
  let now = at;
  const clock: Clock = { now: () => now, isoNow: () => new Date(now).toISOString() };
  return { clock, set: (ms: number) => (now = ms), advance: (ms: number) => (now += ms) };
}

// The log lines written, parsed.
function capturedLogger() {
  const lines: Array<{ level: number; msg: string; category?: string }> = [];
  const logger = createLogger("debug", { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines, changes: () => lines.filter((l) => /judged quality of/.test(l.msg)) };
}

const verdict = (
  at: number,
  verdict: ShadowSampleEntry["verdict"],
  more: Partial<ShadowSampleEntry> = {},
): ShadowSampleEntry => ({
  at: new Date(at).toISOString(),
  requestId: "r",
  sessionId: null,
  category: "M",
  routedRole: "medium_ai",
  routedModel: "medium-model",
  baselineRole: "thinking_ai",
  baselineModel: "thinking-model",
  judgeModel: "thinking-model",
  status: "judged",
  verdict,
  reason: "because",
  routedFirst: true,
  errorCode: null,
  costUsd: 0.001,
  ...more,
});

function routeQuality(
  clock: Clock,
  logger = capturedLogger().logger,
  overrides: Partial<RouteQualityDeps> = {},
) {
  return new RouteQuality({
    settings: { minSamples: 30, minShare: 0.8, windowHours: 24 },
    routes: { L: "thinking_ai", M: "medium_ai", H: "orchestration" },
    ladder: { M: "L" },
    baselineRole: "thinking_ai",
    clock,
    logger,
    ...overrides,
  });
}

const recordMany = (
  quality: RouteQuality,
  count: number,
  at: number,
  judged: ShadowSampleEntry["verdict"],
) => {
  for (let i = 0; i < count; i++) quality.record(verdict(at, judged));
};

describe("RouteQuality", () => {
  it("follows the categories routed to a role other than the baseline, starting with no verdicts", () => {
    const { clock } = manualClock();
    const quality = routeQuality(clock);
    // L goes to the baseline itself (never sampled), H to orchestration.
    assert.equal(quality.standing("L"), undefined);
    assert.equal(quality.standing("H"), undefined);
    const m = quality.standing("M");
    assert.equal(m?.role, "medium_ai");
    assert.equal(m?.samples, 0);
    assert.equal(m?.steppedUp, false);
    assert.equal(m?.since, undefined);
    assert.deepEqual([m?.low, m?.high], [0, 1]);
    assert.deepEqual(
      quality.standings().map((s) => s.category),
      ["M"],
    );
  });

  it("counts wins and ties as good, losses not, and only judged verdicts on the category's own route", () => {
    const { clock } = manualClock();
    const quality = routeQuality(clock);
    quality.record(verdict(start, "better"));
    quality.record(verdict(start, "equal"));
    quality.record(verdict(start, "worse"));
    quality.record(verdict(start, null, { status: "unparsed" }));
    quality.record(verdict(start, null, { status: "failed" }));
    quality.record(verdict(start, null, { status: "over_budget" }));
    // A stepped-up M answered by another role, a verdict with no category, one on the baseline's category.
    quality.record(verdict(start, "worse", { routedRole: "thinking_ai" }));
    quality.record(verdict(start, "worse", { category: null }));
    quality.record(verdict(start, "worse", { category: "L", routedRole: "thinking_ai" }));
    const m = quality.standing("M");
    const expected = wilsonInterval(2, 3);
    assert.equal(m?.samples, 3);
    assert.equal(m?.good, 2);
    assert.equal(m?.share, expected?.share);
    assert.equal(m?.low, expected?.lower);
    assert.equal(m?.high, expected?.upper);
  });

  it("does not step up below minSamples, however bad the verdicts", () => {
    const { clock, advance } = manualClock();
    const quality = routeQuality(clock);
    recordMany(quality, 29, start, "worse");
    const m = quality.standing("M");
    assert.equal(m?.samples, 29);
    assert.ok((m?.high ?? 1) < 0.2, "the interval is far below the minimum share");
    assert.equal(m?.steppedUp, false);
    advance(5 * minute);
    quality.record(verdict(clock.now(), "worse"));
    assert.equal(quality.standing("M")?.steppedUp, true);
    assert.equal(quality.standing("M")?.since, start + 5 * minute);
  });

  it("steps up when the upper end of the interval falls below minShare, not when only the share does", () => {
    const { clock } = manualClock();
    // 20 of 30: share 0.667 but the interval reaches 0.808, so the evidence is not yet strong enough.
    const borderline = routeQuality(clock);
    recordMany(borderline, 20, start, "better");
    recordMany(borderline, 10, start, "worse");
    assert.ok((borderline.standing("M")?.high ?? 0) > 0.8);
    assert.equal(borderline.standing("M")?.steppedUp, false);
    // 19 of 30: the interval ends at 0.781.
    const low = routeQuality(clock);
    recordMany(low, 19, start, "equal");
    recordMany(low, 11, start, "worse");
    const m = low.standing("M");
    assert.ok((m?.high ?? 1) < 0.8);
    assert.equal(m?.steppedUp, true);
    assert.equal(m?.since, start);
    assert.deepEqual(m?.stepsUpTo, { category: "L", route: "thinking_ai" });
  });

  it("recovers once the verdicts that caused the step leave the window, dated when they left", () => {
    const { clock, set } = manualClock();
    const quality = routeQuality(clock);
    recordMany(quality, 15, start + 30 * 1000, "worse");
    set(start + 12 * hour);
    recordMany(quality, 15, start + 12 * hour, "worse");
    assert.equal(quality.standing("M")?.steppedUp, true);
    assert.equal(quality.standing("M")?.since, start + 12 * hour);
    // Just inside the window, the first verdicts (judged in the first minute) still count.
    set(start + 24 * hour);
    assert.equal(quality.standing("M")?.steppedUp, true);
    // Read well after the first verdicts left: 15 remain, too few to act on. The change is dated when they
    // left, not when it was noticed.
    set(start + 30 * hour);
    const m = quality.standing("M");
    assert.equal(m?.samples, 15);
    assert.equal(m?.steppedUp, false);
    assert.equal(m?.since, start + 24 * hour);
    set(start + 37 * hour);
    assert.equal(quality.standing("M")?.samples, 0);
    assert.equal(quality.standing("M")?.since, start + 24 * hour, "no further change");
  });

  it("recovers when new good verdicts lift the interval back over minShare", () => {
    const { clock, advance } = manualClock();
    const quality = routeQuality(clock);
    recordMany(quality, 30, start, "worse");
    assert.equal(quality.standing("M")?.steppedUp, true);
    let good = 0;
    while (quality.standing("M")?.steppedUp) {
      advance(1000);
      quality.record(verdict(clock.now(), "better"));
      good++;
      assert.ok(good < 500, "it recovers");
      const upper = wilsonInterval(good, 30 + good)?.upper ?? 0;
      assert.equal(quality.standing("M")?.steppedUp, upper < 0.8);
    }
    // 80 good answers after 30 bad ones: share 0.727, interval up to 0.8018.
    assert.equal(good, 80);
    assert.equal(quality.standing("M")?.since, clock.now());
  });

  it("logs each change of state once, however often the standing is read", () => {
    const { clock, set } = manualClock();
    const log = capturedLogger();
    const quality = routeQuality(clock, log.logger);
    recordMany(quality, 40, start, "worse");
    for (let i = 0; i < 100; i++) quality.standing("M");
    assert.equal(log.changes().length, 1);
    const [up] = log.changes();
    assert.equal(up?.level, 40, "a warning");
    assert.equal(up?.category, "M");
    assert.match(up?.msg ?? "", /M traffic steps up to L \(thinking_ai\)/);
    set(start + 25 * hour);
    for (let i = 0; i < 100; i++) quality.standing("M");
    quality.standings();
    assert.equal(log.changes().length, 2);
    const down = log.changes()[1];
    assert.equal(down?.level, 30);
    assert.match(down?.msg ?? "", /as verdicts left the window\): M traffic is routed to medium_ai again/);
  });

  it("ignores a verdict recorded after it has already left the window, and keeps late ones in order", () => {
    const { clock, set } = manualClock(start + 48 * hour);
    const quality = routeQuality(clock);
    quality.record(verdict(start, "worse"));
    assert.equal(quality.standing("M")?.samples, 0);
    // Judged out of order: an older verdict after newer ones still leaves the window in its turn.
    quality.record(verdict(start + 47 * hour, "worse"));
    quality.record(verdict(start + 30 * hour, "worse"));
    quality.record(verdict(start + 40 * hour, "better"));
    assert.equal(quality.standing("M")?.samples, 3);
    set(start + 55 * hour);
    assert.deepEqual([quality.standing("M")?.samples, quality.standing("M")?.good], [2, 1]);
    set(start + 65 * hour);
    assert.deepEqual([quality.standing("M")?.samples, quality.standing("M")?.good], [1, 0]);
  });

  it("never steps up a category that has no step on the ladder", () => {
    const { clock } = manualClock();
    const log = capturedLogger();
    const quality = routeQuality(clock, log.logger, {
      routes: { L: "fast_ai", M: "medium_ai", H: "orchestration" },
      ladder: { M: "L" },
    });
    for (let i = 0; i < 40; i++)
      quality.record(verdict(start, "worse", { category: "L", routedRole: "fast_ai" }));
    const l = quality.standing("L");
    assert.equal(l?.samples, 40);
    assert.equal(l?.steppedUp, false);
    assert.equal(l?.stepsUpTo, undefined);
    assert.equal(log.changes().length, 0);
  });

  it("is off with shadow sampling off or routing.quality disabled", async () => {
    const store = { shadowVerdictsByMinute: async () => [] };
    const { clock } = manualClock();
    const { logger } = capturedLogger();
    const config = (raw: Record<string, unknown>) => parseConfig(raw, {}, "test");
    assert.equal(await startRouteQuality(config({}), { store, clock, logger }), undefined);
    const off = config({
      monitoring: { shadow: { sampleRate: 0.1 } },
      routing: { quality: { enabled: false } },
    });
    assert.equal(await startRouteQuality(off, { store, clock, logger }), undefined);
    const on = config({ monitoring: { shadow: { sampleRate: 0.1 } } });
    assert.ok((await startRouteQuality(on, { store, clock, logger })) instanceof RouteQuality);
  });
});

// The window's verdicts are loaded from the store at start-up, the same on both databases.
const backends: ReadonlyArray<{
  name: string;
  skip?: string;
  open: (clock: Clock) => Promise<{ store: Store; drop?: () => Promise<void> }>;
}> = [
  {
    name: "SQLite",
    open: async (clock) => ({ store: await openStore({ dataDir: ".", databaseUrl: ":memory:" }, clock) }),
  },
  {
    name: "PostgreSQL",
    ...(postgresUrl ? {} : { skip: postgresSkipReason }),
    open: async (clock) => {
      const schema = await freshPostgresSchema();
      return { store: await openStore({ dataDir: ".", databaseUrl: schema.url }, clock), drop: schema.drop };
    },
  },
];

for (const backend of backends)
  describe(`RouteQuality loaded from the store (${backend.name})`, { skip: backend.skip ?? false }, () => {
    const now = start + 30 * hour;
    const { clock, set } = manualClock(now);
    let store: Store;
    let drop: (() => Promise<void>) | undefined;
    beforeEach(async () => {
      set(now);
      ({ store, drop } = await backend.open(clock));
    });
    afterEach(async () => {
      await store.close();
      await drop?.();
    });

    it("counts the window's judged verdicts on each route and starts stepped up when they say so", async () => {
      const record = (entry: ShadowSampleEntry) => store.usage.recordShadowSample(entry);
      // In the window: 28 losses and 4 ties, spread over two minutes, so 32 samples with the interval far below.
      for (let i = 0; i < 28; i++)
        await record(verdict(now - 2 * hour + (i % 2) * minute + i * 1000, "worse"));
      for (let i = 0; i < 4; i++) await record(verdict(now - hour, "equal"));
      // Not counted: too old, not judged, another role's answers, the baseline's own category.
      for (let i = 0; i < 5; i++) await record(verdict(now - 25 * hour, "better"));
      await record(verdict(now - hour, null, { status: "unparsed" }));
      await record(verdict(now - hour, "better", { routedRole: "thinking_ai" }));
      await record(verdict(now - hour, "better", { category: "L", routedRole: "thinking_ai" }));

      const rows = await store.usage.shadowVerdictsByMinute(new Date(now - 24 * hour).toISOString());
      const sorted = (list: unknown[][]) => list.sort((a, b) => a.join().localeCompare(b.join()));
      assert.deepEqual(
        sorted(rows.map((r) => [r.minute, r.category, r.routedRole, r.verdict, r.samples])),
        sorted([
          [new Date(now - 2 * hour).toISOString(), "M", "medium_ai", "worse", 14],
          [new Date(now - 2 * hour + minute).toISOString(), "M", "medium_ai", "worse", 14],
          [new Date(now - hour).toISOString(), "L", "thinking_ai", "better", 1],
          [new Date(now - hour).toISOString(), "M", "medium_ai", "equal", 4],
          [new Date(now - hour).toISOString(), "M", "thinking_ai", "better", 1],
        ]),
        "grouped by the minute",
      );

      const log = capturedLogger();
      const quality = routeQuality(clock, log.logger);
      await quality.load(store.usage);
      const m = quality.standing("M");
      assert.deepEqual([m?.samples, m?.good], [32, 4]);
      assert.equal(m?.steppedUp, true);
      assert.equal(m?.since, now, "dated at start-up");
      assert.equal(log.changes().length, 1);
      assert.match(log.changes()[0]?.msg ?? "", /from the verdicts stored in the window/);
      // The loaded verdicts age out like recorded ones.
      set(now + 23 * hour);
      assert.equal(quality.standing("M")?.samples, 4);
      assert.equal(quality.standing("M")?.steppedUp, false);
      // The first minute's 14 losses left at now + 22 h, leaving too few verdicts to act on.
      assert.equal(quality.standing("M")?.since, now + 22 * hour);
    });
  });
